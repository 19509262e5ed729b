import { and, countDistinct, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditEvents, organizations, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { rateLimitRules, tooManyAttempts } from '../../lib/rate-limits.ts';
import { recordAudit } from '../audit/record.ts';
import { notifyContext, notifySignInLockout } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { findUserByEmail, userEmailIs } from '../shared/users.ts';
import { matchPassword } from './client-accounts.ts';
import { auditPlace, hasSecondFactor, recordOwnAudit } from './second-factor.ts';

export type SignInCheck = { ok: true; userId: string; secondFactor: boolean } | { ok: false };

export interface SignInAttempt {
  /** As typed, trimmed and lower-cased. */
  email: string;
  password: string;
  /** The client's address (api/web/shared/context.ts clientIp). */
  clientAddress: string;
  requestId?: string | undefined;
}

type SignInDeps = Pick<Deps, 'db' | 'rateLimits' | 'config' | 'queues' | 'logger'>;

const accountLimit = rateLimitRules.signInFailuresPerAccount;

/**
 * Checks a sign-in's password under lockouts that protect instead of deny
 * (lib/rate-limits.ts has the numbers):
 *
 * - attempts per address — a client spraying many accounts waits;
 * - a growing wait per account and address — a guesser's address waits, ever longer, and
 *   only that address: the owner elsewhere is not held by a stranger's failures;
 * - failures per account from everywhere — past the limit the account's owners are emailed
 *   (once per window) and an account WITHOUT a second factor is held: every attempt waits
 *   out the window, the right password included. An account with two-factor sign-in is
 *   never held: its right password goes on to the code step (which has its own limit), so
 *   a stranger cannot lock its owner out — at the price that guesses spread over many
 *   addresses are slowed only per address; the password alone opens nothing there.
 *
 * Every attempt is counted before the password is checked (parallel guesses cannot slip
 * past) and given back when right. An unknown address is counted, verified (against a
 * dummy hash) and answered exactly as an account is; only the audit trail differs — an
 * account's attempts are recorded in its organization, an unknown address has none.
 * Throws RATE_LIMITED when an attempt must wait.
 */
export async function checkSignIn(deps: SignInDeps, input: SignInAttempt): Promise<SignInCheck> {
  const { db, rateLimits } = deps;
  const { email, clientAddress } = input;
  const pair = `${email}|${clientAddress}`;
  await rateLimits.consume('signInPerIp', clientAddress);
  const attempt = await rateLimits.startDelayed('signInWaitPerAccountAndIp', pair);
  const failures = await rateLimits.count('signInFailuresPerAccount', email);
  const held = failures.count > accountLimit.points;

  const readable = email !== '' && input.password !== '' && input.password.length <= 1000;
  const matched = readable
    ? await matchPassword(db, email, input.password)
    : { userId: null, passwordOk: false, secondFactor: false };
  const { userId, passwordOk } = matched;
  const secondFactor = passwordOk && matched.secondFactor;

  if (userId && passwordOk && (!held || secondFactor)) {
    await rateLimits.refund('signInFailuresPerAccount', email);
    await rateLimits.clearDelayed('signInWaitPerAccountAndIp', pair);
    await recordOwnAudit(db, userId, {
      action: 'sign_in.password',
      outcome: 'succeeded',
      requestId: input.requestId,
      detail: { clientAddress, next: secondFactor ? 'two_factor' : 'session', ...(held ? { accountHeld: true } : {}) },
    });
    return { ok: true, userId, secondFactor };
  }

  // A wrong password — or the right one while the account is held, which is answered and
  // counted exactly like a wrong one: any difference, now or in the waits after the hold,
  // would tell a guesser which of their tries was right.
  const waitSeconds = await rateLimits.failDelayed('signInWaitPerAccountAndIp', pair, attempt);
  await recordFailure(db, email, {
    requestId: input.requestId,
    detail: {
      clientAddress,
      // The same reason for a right password while held: the trail is read by partner owners.
      reason: 'wrong_password',
      ...(held ? { accountHeld: true } : {}),
      ...(waitSeconds > 0 ? { addressWaitSeconds: waitSeconds } : {}),
    },
  });
  if (failures.count >= accountLimit.points) await noticeLockout(deps, email, clientAddress);
  if (held) throw tooManyAttempts(failures.retryAfterSeconds);
  return { ok: false };
}

/**
 * Records a refused sign-in in the organization of the account with this address — in one
 * statement that inserts nothing for an unknown address (there is no organization to
 * record it in), so that both take the same time. Never the password: the address it
 * came from and why it was refused.
 */
async function recordFailure(
  db: Db,
  email: string,
  event: { requestId?: string | undefined; detail: Record<string, unknown> },
): Promise<void> {
  // Committed without waiting for the disk (synchronous_commit off for this statement's own
  // transaction): a row inserted would otherwise wait for the WAL flush that a row not
  // inserted (an unknown address) does not — milliseconds that tell the two apart. A crash
  // may lose the last such rows; nothing else depends on them.
  await db.execute(sql`
    with relaxed as (select set_config('synchronous_commit', 'off', true))
    insert into ${auditEvents}
      (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, request_id, detail)
    select ${users.id}, case when ${organizations.kind} = 'partner' then ${organizations.id} end, ${users.orgId},
      'sign_in.password', 'user', ${users.id}, 'rejected', ${event.requestId ?? null}, ${JSON.stringify(event.detail)}::jsonb
    from relaxed, ${users} join ${organizations} on ${organizations.id} = ${users.orgId}
    where ${userEmailIs(email)}`);
}

/**
 * The account-wide limit is reached: once per window, its owners are emailed and the
 * lockout recorded. Whether that happens at all depends on the address having an account,
 * so the work is not awaited: the attempt that reaches the limit takes the time every
 * other attempt takes.
 */
async function noticeLockout(deps: SignInDeps, email: string, clientAddress: string): Promise<void> {
  try {
    await deps.rateLimits.consume('signInLockoutNotice', email);
  } catch {
    return; // told already in this window (or the limits are down: the attempt goes on)
  }
  recordLockout(deps, email, clientAddress).catch((error: unknown) =>
    deps.logger.error({ err: error }, 'could not record a sign-in lockout'),
  );
}

async function recordLockout(deps: SignInDeps, email: string, clientAddress: string): Promise<void> {
  const user = await findUserByEmail(deps.db, email, { id: users.id });
  if (!user) return; // an unknown address: nobody to tell, no organization to record it in
  const held = !(await hasSecondFactor(deps.db, user.id));
  const windowMinutes = accountLimit.duration / 60;
  const emailIds = await deps.db.transaction(async (tx) => {
    const [seen] = await tx
      .select({ addresses: countDistinct(sql`${auditEvents.detail}->>'clientAddress'`) })
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.targetId, user.id),
          eq(auditEvents.action, 'sign_in.password'),
          eq(auditEvents.outcome, 'rejected'),
          sql`${auditEvents.createdAt} > now() - make_interval(mins => ${windowMinutes})`,
        ),
      );
    const addresses = Math.max(1, seen?.addresses ?? 1);
    await recordAudit(tx, {
      actorUserId: null,
      ...(await auditPlace(tx, user.id)),
      action: 'sign_in.lockout',
      targetType: 'user',
      targetId: user.id,
      outcome: 'rejected',
      detail: { clientAddress, failures: accountLimit.points, windowMinutes, addresses, held },
    });
    return notifySignInLockout(tx, notifyContext(deps.config), {
      userId: user.id,
      windowKey: new Date().toISOString().slice(0, 16),
      failures: accountLimit.points,
      windowMinutes,
      addresses,
      held,
      heldMinutes: windowMinutes,
    });
  });
  await enqueueEmails(deps, emailIds);
}
