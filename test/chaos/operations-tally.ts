import { verify } from '@node-rs/argon2';
import { expect } from 'vitest';
import { newId } from '../../core/ids.ts';
import { users } from '../../db/schema/index.ts';
import { waitFor } from '../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../helpers/offer-fixtures.ts';
import type { Service } from '../helpers/processes.ts';
import type { SmtpSink } from '../helpers/smtp-sink.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { Tally } from './harness.ts';

/** The operations a scenario asked for: `n` provision-user and `n` reset-password, under one prefix. */
export interface RecordedOperations {
  prefix: string;
  asked: number;
}

/**
 * An active delegation, then `n` users to reset (each signed in once) and, through the API,
 * `n` provision-user and `n` reset-password operations on it. Every account and address
 * starts with `prefix`, so scenarios can share a database.
 */
export async function recordOperations(stack: TestStack, n: number, prefix: string): Promise<RecordedOperations> {
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  const owner = fixture.partner.token;

  const resetTargets = Array.from({ length: n }, (_, i) => ({
    id: newId('user'),
    orgId: admin.orgId,
    email: `${prefix}-reset-${i}@client.example`,
    displayName: `Reset ${i}`,
    passwordHash: '!',
  }));
  await stack.deps.db.insert(users).values(resetTargets);
  await stack.deps.sql`
    insert into sessions (id, user_id) select 's-' || id, id from users where email like ${`${prefix}-reset-%`}`;

  const ask = async (path: string, json?: unknown) => {
    const response = await stack.request(path, { method: 'POST', token: owner, ...(json ? { json } : {}) });
    if (response.status !== 202) throw new Error(`refused: ${response.status} ${await response.text()}`);
  };
  for (let i = 0; i < n; i++) {
    await ask(`/v1/delegations/${delegationId}/users`, {
      displayName: `Prov ${i}`,
      userName: `${prefix}-prov-${i}`,
      notifyEmail: `${prefix}-desk-${i}@partner.example`,
    });
    await ask(`/v1/delegations/${delegationId}/users/${resetTargets[i]?.id}/password-reset`);
  }
  return { prefix, asked: 2 * n };
}

/** What the SMTP server received: the temporary passwords, by the account they are for. */
export function temporaryPasswords(sink: SmtpSink, prefix: string) {
  return sink.messages.flatMap((m) => {
    const password = /Temporary password: (\S+)/.exec(m.text)?.[1];
    const account = /(?:The account|The password of) (\S+) was/.exec(m.text)?.[1]?.toLowerCase();
    return password && account?.startsWith(`${prefix}-`) ? [{ account, password, messageId: m.messageId }] : [];
  });
}

/**
 * Waits until no operation is queued or running (the operations' state; what is counted
 * is what the server and the users have). On timeout, prints what is left and `worker`'s
 * last output.
 */
export async function waitUntilOperationsDone(stack: TestStack, timeoutMs: number, worker?: Service) {
  await waitFor(async () => {
    const [left] = await stack.deps.sql`
      select count(*)::int as n from operations where state in ('queued', 'running')`;
    return left?.n === 0;
  }, timeoutMs).catch(async (error) => {
    const states = await stack.deps.sql`
      select kind, state, attempts, error, lease_until < now() as lease_out, updated_at from operations
      where state in ('queued', 'running') limit 10`;
    const counts = await stack.deps.sql`select kind, state, count(*)::int from operations group by 1, 2`;
    console.log(JSON.stringify({ counts, states }, null, 1), worker?.output().slice(-3000));
    throw error;
  });
}

/**
 * Counts the operations from what the SMTP server received and what the users table holds.
 * `passwords`: an operation is delivered when a password the server received for the user
 * is the user's password (argon2 against the users table); a duplicate is each further
 * distinct password. `emails`: accounts reached, and extra copies of the same message.
 * Also checks, per account, one Message-ID per password and no session left.
 */
export async function tallyOperations(
  stack: TestStack,
  sink: SmtpSink,
  recorded: RecordedOperations,
): Promise<{ passwords: Tally; emails: Tally; accounts: number }> {
  const { prefix, asked } = recorded;
  const byAccount = new Map<string, { passwords: Set<string>; messageIds: Set<string>; copies: number }>();
  for (const r of temporaryPasswords(sink, prefix)) {
    const entry = byAccount.get(r.account) ?? { passwords: new Set(), messageIds: new Set(), copies: 0 };
    entry.passwords.add(r.password);
    entry.messageIds.add(r.messageId ?? '');
    entry.copies++;
    byAccount.set(r.account, entry);
  }
  const accounts = await stack.deps.sql`
    select lower(email) as email, password_hash,
      (select count(*)::int from sessions s where s.user_id = u.id) as sessions
    from users u where email like ${`${prefix}-prov-%`} or email like ${`${prefix}-reset-%`}`;
  let done = 0;
  let passwordDuplicates = 0;
  let emailCopies = 0;
  for (const account of accounts) {
    const entry = byAccount.get(account.email);
    if (!entry) continue;
    passwordDuplicates += entry.passwords.size - 1;
    emailCopies += entry.copies - 1;
    expect(entry.messageIds.size, account.email).toBe(entry.passwords.size);
    for (const password of entry.passwords) if (await verify(account.password_hash, password)) done++;
    expect(account.sessions, account.email).toBe(0);
  }
  return {
    passwords: { asked, delivered: done, duplicates: passwordDuplicates, lost: asked - done },
    emails: { asked, delivered: byAccount.size, duplicates: emailCopies, lost: asked - byAccount.size },
    accounts: accounts.length,
  };
}
