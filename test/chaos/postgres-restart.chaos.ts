import { expect, it } from 'vitest';
import { acceptOffer } from '../../services/offers/acceptance.ts';
import { waitFor } from '../helpers/factories.ts';
import { createClientAdmin, createOfferFixture } from '../helpers/offer-fixtures.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.ts';
import { chaosWorld, report, sleep } from './harness.ts';
import { recordOperations, tallyOperations, temporaryPasswords, waitUntilOperationsDone } from './operations-tally.ts';

/**
 * The PostgreSQL *server* restarted under load — a crash (immediate shutdown: no
 * checkpoint, crash recovery at the next start) and a fast restart, each with the server
 * down for seconds — while a worker runs 500 operations and 100 acceptances arrive, some
 * of them while the server is down (the client clicks again, as a person would). The
 * server is the test's own (the shared one is never restarted). Counted from what the
 * SMTP server received, the client organization's users, and the API's answers.
 */
let server: PrivatePostgres | undefined;
const world = chaosWorld({
  before: async () => {
    server = await startPrivatePostgres();
  },
  database: () => (server as PrivatePostgres).createDatabase(),
  after: async () => {
    await server?.close();
  },
});

const OPERATIONS = 250; // of each kind
const ACCEPTANCES = 100;

it('PostgreSQL crashed and restarted twice during 500 operations and 100 acceptances: each done once, each acceptance granted once', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const recorded = await recordOperations(stack, OPERATIONS, 'restart');

  const recipients = Array.from({ length: ACCEPTANCES }, (_, i) => `restart-offer-${i}@client.example`);
  const fixture = await createOfferFixture(stack, { recipients });
  const admins: Awaited<ReturnType<typeof createClientAdmin>>[] = [];
  for (let i = 0; i < ACCEPTANCES; i++) admins.push(await createClientAdmin(stack, `Restart Client ${i}`));
  // Accepting retries while the server is down, as the person in the browser would.
  let acceptErrors = 0;
  const accept = async (i: number) => {
    const link = fixture.links.get(recipients[i] as string);
    for (;;) {
      try {
        return await acceptOffer(stack.deps, link?.token as string, admins[i] as (typeof admins)[number]);
      } catch {
        acceptErrors++;
        await sleep(250);
      }
    }
  };
  // The first half is waiting in the queue when the worker starts.
  for (let i = 0; i < ACCEPTANCES / 2; i++) await accept(i);

  const worker = world.worker();
  await waitFor(async () => temporaryPasswords(sink, 'restart').length >= 100, 90_000);
  // The second half arrives across the crash.
  const secondHalf = (async () => {
    for (let i = ACCEPTANCES / 2; i < ACCEPTANCES; i++) {
      await accept(i);
      await sleep(40);
    }
  })();
  await server?.restart({ mode: 'immediate', downMs: 3000 });
  await secondHalf;
  await waitFor(async () => temporaryPasswords(sink, 'restart').length >= 300, 90_000).catch((error) => {
    console.log(temporaryPasswords(sink, 'restart').length, worker.output().slice(-4000));
    throw error;
  });
  await server?.restart({ mode: 'fast', downMs: 2000 });

  await waitUntilOperationsDone(stack, 180_000, worker);
  // Every acceptance answered, as the partner's API tells it.
  const states = await waitFor(async () => {
    const answers = await Promise.all(
      [...fixture.links.values()].map(async ({ delegationId }) => {
        const response = await stack.request(`/v1/delegations/${delegationId}`, { token: fixture.partner.token });
        return response.status === 200
          ? ((await response.json()) as { state: string }).state
          : `http ${response.status}`;
      }),
    );
    return answers.every((state) => state === 'active') ? answers : undefined;
  }, 90_000);

  const { passwords, emails, accounts } = await tallyOperations(stack, sink, recorded);
  expect(accounts).toBe(recorded.asked);
  report('PostgreSQL crashed + restarted, 250 provision-user + 250 reset-password (passwords)', passwords, started);
  report('PostgreSQL crashed + restarted, 250 provision-user + 250 reset-password (emails)', emails, started);

  // Each acceptance: one receipt to the client's admin, one notice to the partner.
  const copies = (match: (subject: string, to: string[]) => boolean) => {
    const byMessage = new Map<string, number>();
    for (const m of sink.messages) {
      if (match(m.subject ?? '', m.to)) byMessage.set(m.messageId ?? '', (byMessage.get(m.messageId ?? '') ?? 0) + 1);
    }
    return byMessage;
  };
  const adminAddresses = new Set(admins.map((a) => a.email.toLowerCase()));
  const receipts = copies((subject, to) => subject.startsWith('You granted') && to.some((t) => adminAddresses.has(t)));
  const notices = copies((subject) => /^Restart Client \d+ accepted/.test(subject));
  const duplicatesOf = (m: Map<string, number>) => [...m.values()].reduce((sum, n) => sum + n - 1, 0);
  const acceptances = {
    asked: ACCEPTANCES,
    delivered: Math.min(receipts.size, notices.size),
    duplicates: duplicatesOf(receipts) + duplicatesOf(notices),
    lost: ACCEPTANCES - Math.min(receipts.size, notices.size),
  };
  report(`PostgreSQL crashed + restarted, 100 acceptances (${acceptErrors} retried clicks)`, acceptances, started);

  expect(worker.child.exitCode, worker.output()).toBeNull();
  expect(states.filter((s) => s === 'active')).toHaveLength(ACCEPTANCES);
  expect(passwords.lost).toBe(0);
  expect(passwords.duplicates).toBe(0);
  expect(emails.lost).toBe(0);
  expect(acceptances.lost).toBe(0);
  expect(receipts.size).toBe(ACCEPTANCES);
  expect(notices.size).toBe(ACCEPTANCES);
  // At-least-once email: a message whose sending was cut by the crash may go again (same
  // Message-ID) — at most one per send in flight per restart: the concurrency of the mail queue sending them plus the operations' (operations send their own email).
  console.info({ emailDuplicates: emails.duplicates, acceptanceDuplicates: acceptances.duplicates });
  expect(emails.duplicates + acceptances.duplicates).toBeLessThanOrEqual(
    2 * (stack.config.mailConcurrency + stack.config.workerConcurrency),
  );
}, 420_000);
