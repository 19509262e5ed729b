import { verify } from '@node-rs/argon2';
import { expect, it } from 'vitest';
import { newId } from '../../core/ids.ts';
import { users } from '../../db/schema/index.ts';
import { waitFor } from '../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../helpers/offer-fixtures.ts';
import { chaosWorld, report } from './harness.ts';

const world = chaosWorld({});

const N = 100; // of each kind

it('kill -9 of the worker three times during 200 provision-user and reset-password operations: one password each, set once', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  const owner = fixture.partner.token;

  // The users to reset, each signed in once.
  const resetTargets = Array.from({ length: N }, (_, i) => ({
    id: newId('user'),
    orgId: admin.orgId,
    email: `chaos-reset-${i}@client.example`,
    displayName: `Reset ${i}`,
    passwordHash: '!',
  }));
  await stack.deps.db.insert(users).values(resetTargets);
  await stack.deps
    .sql`insert into sessions (id, user_id) select 's-' || id, id from users where email like 'chaos-reset-%'`;

  const ask = async (path: string, json?: unknown) => {
    const response = await stack.request(path, { method: 'POST', token: owner, ...(json ? { json } : {}) });
    if (response.status !== 202) throw new Error(`refused: ${response.status} ${await response.text()}`);
  };
  for (let i = 0; i < N; i++) {
    await ask(`/v1/delegations/${delegationId}/users`, {
      displayName: `Prov ${i}`,
      userName: `chaos-prov-${i}`,
      notifyEmail: `chaos-desk-${i}@partner.example`,
    });
    await ask(`/v1/delegations/${delegationId}/users/${resetTargets[i]?.id}/password-reset`);
  }

  // What the SMTP server received: the temporary passwords, by the account they are for.
  const temporaryPasswords = () =>
    sink.messages.flatMap((m) => {
      const password = /Temporary password: (\S+)/.exec(m.text)?.[1];
      const account = /(?:The account|The password of) (\S+) was/.exec(m.text)?.[1]?.toLowerCase();
      return password && account ? [{ account, password, messageId: m.messageId }] : [];
    });

  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = world.worker();
    await waitFor(async () => temporaryPasswords().length >= 40 * (k + 1), 60_000);
    await worker.stop('SIGKILL');
  }
  const last = world.worker();
  // Waiting on the operations' state; what is counted below is what the server and the users have.
  await waitFor(async () => {
    const [left] = await stack.deps.sql`
      select count(*)::int as n from operations where state in ('queued', 'running')`;
    return left?.n === 0;
  }, 120_000).catch(async (error) => {
    const states = await stack.deps.sql`
      select kind, state, attempts, error, lease_until < now() as lease_out, updated_at from operations
      where state in ('queued', 'running') limit 10`;
    const counts = await stack.deps.sql`select kind, state, count(*)::int from operations group by 1, 2`;
    console.log(JSON.stringify({ counts, states }, null, 1), last.output().slice(-3000));
    throw error;
  });

  const received = temporaryPasswords();
  const byAccount = new Map<string, { passwords: Set<string>; messageIds: Set<string>; copies: number }>();
  for (const r of received) {
    const entry = byAccount.get(r.account) ?? { passwords: new Set(), messageIds: new Set(), copies: 0 };
    entry.passwords.add(r.password);
    entry.messageIds.add(r.messageId ?? '');
    entry.copies++;
    byAccount.set(r.account, entry);
  }
  const accounts = await stack.deps.sql`
    select lower(email) as email, password_hash,
      (select count(*)::int from sessions s where s.user_id = u.id) as sessions
    from users u where email like 'chaos-prov-%' or email like 'chaos-reset-%'`;
  // Per user: done when a password the server received for them is theirs; a duplicate is
  // each further distinct password.
  let done = 0;
  let passwordDuplicates = 0;
  let emailCopies = 0;
  for (const account of accounts) {
    const entry = byAccount.get(account.email);
    if (!entry) continue;
    passwordDuplicates += entry.passwords.size - 1;
    emailCopies += entry.copies - 1;
    expect(entry.messageIds.size, account.email).toBe(entry.passwords.size);
    // Done: one of the passwords the user was sent is the user's password (the last one sent, before this fix).
    for (const password of entry.passwords) if (await verify(account.password_hash, password)) done++;
    expect(account.sessions, account.email).toBe(0);
  }
  const asked = 2 * N;
  report(
    'kill -9 worker ×3, 200 provision-user + reset-password (passwords)',
    { asked, delivered: done, duplicates: passwordDuplicates, lost: asked - done },
    started,
  );
  report(
    'kill -9 worker ×3, 200 provision-user + reset-password (emails)',
    { asked, delivered: byAccount.size, duplicates: emailCopies, lost: asked - byAccount.size },
    started,
  );
  expect(accounts).toHaveLength(asked);
  expect(done).toBe(asked);
  expect(passwordDuplicates).toBe(0);
  // The same message again, at most once per kill (lib/mailer.ts's sendAndRecord).
  expect(emailCopies).toBeLessThanOrEqual(kills);
});
