import { verify } from '@node-rs/argon2';
import { expect } from 'vitest';
import { newId } from '../../core/ids.ts';
import { users } from '../../db/schema/index.ts';
import { waitFor } from '../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../helpers/offer-fixtures.ts';
import type { SmtpSink } from '../helpers/smtp-sink.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { Tally } from './harness.ts';

/**
 * Asks, through the API, for `n` provision-user and `n` reset-password operations in one
 * client organization (the users to reset exist and are signed in once each). Their
 * accounts are named `<prefix>-prov-<i>` and `<prefix>-reset-<i>@client.example`.
 */
export async function askOperations(stack: TestStack, n: number, prefix: string): Promise<{ asked: number }> {
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
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
    const response = await stack.request(path, {
      method: 'POST',
      token: fixture.partner.token,
      ...(json ? { json } : {}),
    });
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
  return { asked: 2 * n };
}

/** What the SMTP server received: the temporary passwords, by the account they are for. */
export function temporaryPasswords(sink: SmtpSink) {
  return sink.messages.flatMap((m) => {
    const password = /Temporary password: (\S+)/.exec(m.text)?.[1];
    const account = /(?:The account|The password of) (\S+) was/.exec(m.text)?.[1]?.toLowerCase();
    return password && account ? [{ account, password, messageId: m.messageId }] : [];
  });
}

/** Waits until no operation is queued or running (the wait only; the count is from the evidence). */
export async function waitForOperations(stack: TestStack, timeoutMs: number, output: () => string) {
  await waitFor(async () => {
    const [left] = await stack.deps.sql`
      select count(*)::int as n from operations where state in ('queued', 'running')`;
    return left?.n === 0;
  }, timeoutMs).catch(async (error) => {
    const states = await stack.deps.sql`
      select kind, state, attempts, error, lease_until < now() as lease_out, updated_at from operations
      where state in ('queued', 'running') limit 10`;
    const counts = await stack.deps.sql`select kind, state, count(*)::int from operations group by 1, 2`;
    console.log(JSON.stringify({ counts, states }, null, 1), output().slice(-3000));
    throw error;
  });
}

export interface OperationsEvidence {
  /** Per user, a password the SMTP server received for them is theirs. */
  passwords: Tally;
  /** Per user, the emails received: a duplicate is a further copy of the same message. */
  emails: Tally;
}

/**
 * What the operations of {@link askOperations} did, from the SMTP server's messages and the
 * client organization's users: one password per user, set (it verifies against the user's
 * hash), the user's sessions ended, and one message per distinct password.
 */
export async function operationsEvidence(stack: TestStack, sink: SmtpSink, prefix: string, asked: number) {
  const byAccount = new Map<string, { passwords: Set<string>; messageIds: Set<string>; copies: number }>();
  for (const r of temporaryPasswords(sink)) {
    if (!r.account.startsWith(`${prefix}-`)) continue;
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
  expect(accounts).toHaveLength(asked);
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
  } satisfies OperationsEvidence;
}
