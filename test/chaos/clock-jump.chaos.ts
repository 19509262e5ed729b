import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { AUTO_EXTEND_DAYS } from '../../core/offer-rules.ts';
import { lastWholeWeekStart, weekEnd, weekName } from '../../core/weekly-digest.ts';
import { runLifecycle } from '../../services/maintenance/lifecycle.ts';
import { waitFor } from '../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../helpers/offer-fixtures.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.ts';
import { chaosWorld, report, sleep } from './harness.ts';

/**
 * The clock jumps 31 days forward under a running system: PostgreSQL and both worker
 * processes run under libfaketime, reading one offset file this test rewrites from `+0d` to
 * `+31d`. The lifecycle sweep judges by the database clock (`now()`); the workers share the
 * jump so that what they schedule by their own clock (the sweep's repeat, mail retries)
 * moves with it. FAKETIME_DONT_FAKE_MONOTONIC keeps Node's timers on
 * the real monotonic clock, so a worker does not sleep or fire 31 days' worth of timers.
 *
 * Counted from what the SMTP server received and what the API answers, never from the
 * notice rows: every expiry notice, expiry and auto-extension that +31 days makes due, and
 * the weekly digest of the week the clock jumped out of, happens once, none that it does
 * not — with two workers sweeping, and four sweeps run at once from here at the moment of
 * the jump.
 */
const faketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const offsetFile = join(tmpdir(), `mandate-clock-jump-${process.pid}`);
const jump = (offset: string) => writeFileSync(offsetFile, `${offset}\n`);
const clockEnv = {
  LD_PRELOAD: faketime,
  FAKETIME_TIMESTAMP_FILE: offsetFile,
  FAKETIME_NO_CACHE: '1',
  FAKETIME_DONT_FAKE_MONOTONIC: '1',
};

let postgres: PrivatePostgres | undefined;
const world = chaosWorld({
  before: async () => {
    jump('+0d');
  },
  database: async () => {
    postgres = await startPrivatePostgres({ env: clockEnv });
    return postgres.createDatabase();
  },
  after: async () => {
    await postgres?.close();
    rmSync(offsetFile, { force: true });
  },
});

const DAY_MS = 86_400_000;
const JUMP_DAYS = 31;
const PER_GROUP = 6;
const TICK_MS = 1000;

type Kind = 'notice-30' | 'notice-7' | 'notice-1' | 'expired';

/**
 * The population, each group's end chosen (in days from now, before the jump) so the outcome
 * of +31 days is known exactly:
 * - `extend`: auto-extending, 20 days left. Its 30-day notice goes before the jump; after it
 *   the end is 11 days past, so it is extended once by AUTO_EXTEND_DAYS (to 169 days ahead,
 *   no notice due for the new end). One extension covers the jump: a jump longer than
 *   AUTO_EXTEND_DAYS would leave the new end in the past too, and each later sweep would
 *   extend once more until the end is ahead again (one `auto_extend` event per sweep).
 * - `expire`: not auto-extending, 20 days left: the 30-day notice before the jump, then
 *   expired once, one expired email per side; the 7- and 1-day notices were jumped over and
 *   are not sent late.
 * - `seven`: 35 days left, nothing before; after the jump 4 days left: the 7-day notice
 *   only (the 30-day one no longer applies).
 * - `one`: 31.5 days left; after the jump half a day: the 1-day notice only.
 * - `thirty`: 45 days left; after the jump 14 days: the 30-day notice.
 */
const groups = [
  { name: 'extend', autoExtend: true, days: 20, kinds: ['notice-30'], state: 'active', extensions: 1 },
  { name: 'expire', autoExtend: false, days: 20, kinds: ['notice-30', 'expired'], state: 'expired', extensions: 0 },
  { name: 'seven', autoExtend: true, days: 35, kinds: ['notice-7'], state: 'active', extensions: 0 },
  { name: 'one', autoExtend: false, days: 31.5, kinds: ['notice-1'], state: 'active', extensions: 0 },
  { name: 'thirty', autoExtend: false, days: 45, kinds: ['notice-30'], state: 'active', extensions: 0 },
] as const satisfies readonly {
  name: string;
  autoExtend: boolean;
  days: number;
  kinds: readonly Kind[];
  state: string;
  extensions: number;
}[];

/** An expiry or expired email by its subject: which client it is about, and which kind. */
function classify(subject: string | undefined): { client: string; kind: Kind } | undefined {
  const ends = /^Delegated administration of (.+) by .+ ends (?:tomorrow|in (\d+) days)$/.exec(subject ?? '');
  if (ends?.[1]) {
    const daysLeft = ends[2] ? Number(ends[2]) : 1;
    return { client: ends[1], kind: daysLeft <= 1 ? 'notice-1' : daysLeft <= 7 ? 'notice-7' : 'notice-30' };
  }
  const expired = /^Delegated administration of (.+) by .+ has expired$/.exec(subject ?? '');
  return expired?.[1] ? { client: expired[1], kind: 'expired' } : undefined;
}

it('a clock jump of +31 days under two workers and racing sweeps: each expiry notice, auto-extension, expiry and the digest of the week before happens once', async () => {
  const { stack, sink } = world;
  const started = Date.now();

  interface Member {
    group: (typeof groups)[number];
    client: string;
    delegationId: string;
    token: string;
    endsAt: number;
  }
  const members: Member[] = [];
  for (const autoExtend of [true, false]) {
    const inGroups = groups.filter((g) => g.autoExtend === autoExtend);
    const recipients = inGroups.flatMap((g) =>
      Array.from({ length: PER_GROUP }, (_, i) => `${g.name}-${i}@client.example`),
    );
    const fixture = await createOfferFixture(stack, {
      offer: { access: 'limited', durationDays: 365, autoExtend },
      recipients,
    });
    for (const group of inGroups) {
      for (let i = 0; i < PER_GROUP; i++) {
        const client = `Clock ${group.name} ${i}`;
        const { delegationId } = await activateDelegation(stack, fixture, `${group.name}-${i}@client.example`, client);
        // Test setup: the end moved straight in the table to where the scenario needs it
        // (an offer's duration is whole days from acceptance). Everything counted below
        // comes from the SMTP server and the API.
        await stack.deps.sql`
          update delegations set ends_at = now() + make_interval(secs => ${group.days * 86_400})
          where id = ${delegationId} and state = 'active'`;
        members.push({ group, client, delegationId, token: fixture.partner.token, endsAt: 0 });
      }
    }
  }
  const view = async (m: Member) => {
    const response = await stack.request(`/v1/delegations/${m.delegationId}`, { token: m.token });
    if (response.status !== 200) throw new Error(`GET ${m.delegationId}: ${response.status}`);
    return (await response.json()) as { state: string; endsAt: string };
  };
  for (const m of members) m.endsAt = Date.parse((await view(m)).endsAt);

  const expiryEmails = () =>
    sink.messages.flatMap((message) => {
      const c = classify(message.subject);
      return c ? [{ ...c, to: message.to }] : [];
    });
  // Each notice goes to both sides: the partner's owner and the client's admin.
  const expectedBefore = members.filter((m) => m.group.days <= 30).length * 2;

  const workerEnv = { ...clockEnv, LIFECYCLE_INTERVAL_MS: String(TICK_MS) };
  const workers = [world.worker(workerEnv), world.worker(workerEnv)];
  const maintenance = stack.deps.queues.queue('maintenance');
  /** Lifecycle sweeps finished since `since`, by the workers' clock. */
  const ticksSince = async (since: number) =>
    (await maintenance.getJobs(['completed'], 0, -1)).filter(
      (job) => job.name === 'lifecycle-tick' && (job.finishedOn ?? 0) >= since,
    ).length;

  // Before the jump: the 30-day notices of the two groups 20 days from their end, then a
  // few more sweeps with nothing else due.
  await waitFor(async () => expiryEmails().length >= expectedBefore, 60_000).catch((error) => {
    console.log(workers.map((w) => w.output().slice(-2000)).join('\n---\n'));
    throw error;
  });
  const settled = Date.now();
  await waitFor(async () => (await ticksSince(settled)) >= 3, 30_000);
  const before = expiryEmails().length;

  jump(`+${JUMP_DAYS}d`);
  const [clock] = await stack.deps.sql<{ ms: number }[]>`select (extract(epoch from now()) * 1000)::float8 as ms`;
  const jumpedAt = Date.now() + JUMP_DAYS * DAY_MS - 60_000;
  expect(clock?.ms).toBeGreaterThan(jumpedAt);
  // The scheduler hands out one tick at a time, so the two workers' sweeps overlap only when
  // one outlasts the interval; these passes, at once and beside the workers, make the race
  // certain. They judge by the same (database) clock as the workers.
  await Promise.all(Array.from({ length: 4 }, () => runLifecycle(stack.deps)));

  // Every kind of each member, on both sides, to arrive; then several sweeps by the jumped
  // clock (the two workers racing for them) with the mail queues drained, so a second copy
  // would have had every chance to arrive.
  const expectedTotal = members.reduce((n, m) => n + m.group.kinds.length * 2, 0);
  await waitFor(async () => expiryEmails().length >= expectedTotal, 60_000).catch((error) => {
    console.log(workers.map((w) => w.output().slice(-2000)).join('\n---\n'));
    throw error;
  });
  // Finished "31 days later" by the workers' own clock: they run under the jump too.
  await waitFor(async () => (await ticksSince(jumpedAt)) >= 8, 30_000);
  await waitFor(async () => {
    for (const queue of ['mail', 'transactional-mail'] as const) {
      const counts = await stack.deps.queues.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (!Object.values(counts).every((n) => n === 0)) return false;
    }
    return true;
  }, 30_000);
  await sleep(2 * TICK_MS);

  // Emails: per member, side and kind, what the sink received against what was due.
  const received = new Map<string, number>();
  for (const e of expiryEmails())
    for (const to of e.to) {
      const key = `${e.client}|${e.kind}|${to.endsWith('@partner.example') ? 'partner' : 'client'}`;
      received.set(key, (received.get(key) ?? 0) + 1);
    }
  const expectedKeys = new Set(
    members.flatMap((m) =>
      m.group.kinds.flatMap((kind) => [`${m.client}|${kind}|partner`, `${m.client}|${kind}|client`]),
    ),
  );
  let delivered = 0;
  let duplicates = 0;
  const unexpected: string[] = [];
  for (const [key, copies] of received) {
    if (expectedKeys.has(key)) {
      delivered++;
      duplicates += copies - 1;
    } else {
      // A notice nothing made due (a 30-day notice sent late, one re-sent for an old end) counts as a duplicate too.
      unexpected.push(key);
      duplicates += copies;
    }
  }
  const emails = { asked: expectedKeys.size, delivered, duplicates, lost: expectedKeys.size - delivered };

  // The API: each member's state and end, extended exactly `extensions` times.
  let done = 0;
  let extraExtensions = 0;
  let extended = 0;
  const wrong: string[] = [];
  for (const m of members) {
    const now = await view(m);
    const extensions = Math.round((Date.parse(now.endsAt) - m.endsAt) / (AUTO_EXTEND_DAYS * DAY_MS));
    const exact = Date.parse(now.endsAt) === m.endsAt + extensions * AUTO_EXTEND_DAYS * DAY_MS;
    if (now.state === m.group.state && extensions === m.group.extensions && exact) done++;
    else wrong.push(`${m.client}: ${now.state}, ${extensions} extensions, ends ${now.endsAt}`);
    // Extended more often than due: a duplicate, not a loss.
    if (extensions > m.group.extensions) extended++;
    extraExtensions += Math.max(0, extensions - m.group.extensions);
  }
  // Digests: the acceptances above are partner actions of the running week; once the jump
  // has put that week in the past, each client's admin gets its digest once (a run that
  // straddles Monday 00:00 UTC would split them over two weeks; it takes under a minute).
  const actionsWeek = weekName(weekEnd(lastWholeWeekStart(new Date(started))));
  const digestCopies = new Map<string, number>();
  const otherDigests: string[] = [];
  for (const message of sink.messages) {
    const digest = /^What partners did in (.+) in the week of (\S+)$/.exec(message.subject ?? '');
    if (!digest?.[1] || !members.some((m) => m.client === digest[1])) continue;
    if (digest[2] === actionsWeek) digestCopies.set(digest[1], (digestCopies.get(digest[1]) ?? 0) + 1);
    else otherDigests.push(`${digest[1]}: ${digest[2]}`);
  }
  const digestDuplicates = [...digestCopies.values()].reduce((n, c) => n + c - 1, 0) + otherDigests.length;
  const digests = {
    asked: members.length,
    delivered: digestCopies.size,
    duplicates: digestDuplicates,
    lost: members.length - digestCopies.size,
  };

  const states = {
    asked: members.length,
    delivered: done,
    duplicates: extraExtensions,
    lost: members.length - done - extended,
  };

  report(
    `clock jump +${JUMP_DAYS} days, 2 workers + 4 racing passes, ${members.length} delegations (notice and expired emails)`,
    emails,
    started,
  );
  report(
    `clock jump +${JUMP_DAYS} days, 2 workers + 4 racing passes, ${members.length} delegations (states and ends, API)`,
    states,
    started,
  );
  report(
    `clock jump +${JUMP_DAYS} days, 2 workers + 4 racing passes, ${members.length} delegations (weekly digests of the week before)`,
    digests,
    started,
  );
  expect(before).toBe(expectedBefore);
  expect(unexpected).toEqual([]);
  expect(wrong).toEqual([]);
  expect(emails.lost).toBe(0);
  expect(emails.duplicates).toBe(0);
  expect(states.lost).toBe(0);
  expect(states.duplicates).toBe(0);
  expect(otherDigests).toEqual([]);
  expect(digests.lost).toBe(0);
  expect(digests.duplicates).toBe(0);
  for (const w of workers) expect(w.child.exitCode, w.output()).toBeNull();
}, 150_000);
