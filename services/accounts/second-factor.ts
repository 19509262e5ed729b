import { and, count, eq, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { AuditAction } from '../../core/audit-actions.ts';
import { isAppError } from '../../core/errors.ts';
import { judgeTotpStep, readRecoveryCode, readTotpCode, type SecondFactorRefusal } from '../../core/second-factor.ts';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { organizations, recoveryCodes, userFactors, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import type { RateLimitName } from '../../lib/rate-limits.ts';
import { openSecret } from '../../lib/secret-box.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import { matchTotpCode } from '../../lib/totp.ts';
import { recordAudit } from '../audit/record.ts';

/** Why a code is being checked: recorded with it, so the trail says what it was for. */
export type SecondFactorPurpose = 'sign_in' | 'disable' | 'step_up';

export type SecondFactorResult =
  | { ok: true; method: 'totp' | 'recovery_code' }
  | { ok: false; reason: SecondFactorRefusal; retryAfterSeconds?: number };

/** What sealed a user's TOTP secret is bound to (lib/secret-box.ts). */
export const totpSecretContext = (userId: string) => `totp:${userId}`;

/**
 * Where a user's own security events are recorded: their organization, which sees its
 * trail (a client's admins on their page; a partner's owners through /v1/audit, which
 * reads by partner).
 */
export async function auditPlace(db: DbOrTx, userId: string): Promise<{ orgId: string; partnerId: string | null }> {
  const [row] = await db
    .select({ orgId: users.orgId, kind: organizations.kind })
    .from(users)
    .innerJoin(organizations, eq(organizations.id, users.orgId))
    .where(eq(users.id, userId));
  if (!row) throw new Error(`no user ${userId}`);
  return { orgId: row.orgId, partnerId: row.kind === 'partner' ? row.orgId : null };
}

/** Records one of a user's own security events (two-factor, sessions), in their organization. */
export async function recordOwnAudit(
  db: DbOrTx,
  userId: string,
  event: {
    action: AuditAction;
    outcome: 'succeeded' | 'rejected';
    detail?: Record<string, unknown>;
    requestId?: string | undefined;
  },
): Promise<void> {
  await recordAudit(db, {
    ...(await auditPlace(db, userId)),
    actorUserId: userId,
    action: event.action,
    targetType: 'user',
    targetId: userId,
    outcome: event.outcome,
    requestId: event.requestId,
    detail: event.detail,
  });
}

/** Whether the user has a confirmed second factor, so signing in needs it after the password. */
export async function hasSecondFactor(db: DbOrTx, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ n: count() })
    .from(userFactors)
    .where(and(eq(userFactors.userId, userId), isNotNull(userFactors.confirmedAt)));
  return (row?.n ?? 0) > 0;
}

/** How many of the user's recovery codes are still unused. */
export async function recoveryCodesLeft(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  return row?.n ?? 0;
}

type AttemptInput = { userId: string; code: string; purpose: SecondFactorPurpose; requestId?: string | undefined };

/** Where an attempt comes from: its client's address (api/web/shared/context.ts clientIp). */
type LimitedAttempt = AttemptInput & { clientAddress: string };

const actionFor = (code: string): AuditAction =>
  readTotpCode(code) || !readRecoveryCode(code) ? 'two_factor.code' : 'two_factor.recovery_code';

/**
 * Counts one attempt at a code against the limits (lib/rate-limits.ts), then runs `check`
 * (which opens its own transaction and calls {@link checkSecondFactor}); a success gives
 * the attempts back. A one-time code counts per (account, address) and per account; a
 * recovery code — 100 random bits, not guessable — per (account, address) only, so the
 * owner can still sign in with one while a stranger with the password exhausts the
 * account's codes. The limiter is called outside any transaction: without Redis it keeps
 * its counts in PostgreSQL through the pool, and a transaction waiting for a second pooled
 * connection while holding a row lock could starve the pool. Over a limit: refused and
 * audited, `check` not run.
 */
export async function withSecondFactorAttempt<R extends { ok: boolean }>(
  deps: Pick<Deps, 'db' | 'rateLimits'>,
  input: LimitedAttempt,
  check: () => Promise<R>,
): Promise<R | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number }> {
  const limits: [RateLimitName, string][] = [
    ['secondFactorFailuresPerAccountAndIp', `${input.userId}|${input.clientAddress}`],
  ];
  if (actionFor(input.code) !== 'two_factor.recovery_code')
    limits.push(['secondFactorFailuresPerAccount', input.userId]);
  const counted: typeof limits = [];
  try {
    for (const limit of limits) {
      await deps.rateLimits.consume(...limit);
      counted.push(limit);
    }
  } catch (error) {
    if (!isAppError(error, 'RATE_LIMITED')) throw error;
    // The limits before the one that refused counted an attempt that is not made.
    for (const limit of counted) await deps.rateLimits.refund(...limit);
    await recordOwnAudit(deps.db, input.userId, {
      action: actionFor(input.code),
      outcome: 'rejected',
      requestId: input.requestId,
      detail: { purpose: input.purpose, reason: 'rate_limited' },
    });
    return { ok: false, reason: 'rate_limited', retryAfterSeconds: Number(error.details?.retryAfterSeconds ?? 60) };
  }
  const result = await check();
  if (result.ok) for (const limit of counted) await deps.rateLimits.refund(...limit);
  return result;
}

/**
 * Checks a code typed at the second step — from the authenticator app, or a recovery
 * code — and records the outcome either way (refusals are answers, never thrown, so the
 * caller's transaction commits their audit rows). Call it inside
 * {@link withSecondFactorAttempt}, which limits the attempts. Accepting spends it: the
 * TOTP step becomes the last used (a guarded update, so two requests with one code cannot
 * both pass), or the recovery code is marked used. A refusal changes nothing but the
 * audit trail.
 */
export async function checkSecondFactor(
  deps: Pick<Deps, 'config'>,
  tx: Tx,
  input: AttemptInput,
): Promise<SecondFactorResult> {
  const { userId, purpose, requestId } = input;
  const totpCode = readTotpCode(input.code);
  const recoveryCode = totpCode ? null : readRecoveryCode(input.code);
  const action = actionFor(input.code);
  const result = recoveryCode
    ? await spendRecoveryCode(tx, userId, recoveryCode)
    : totpCode
      ? await spendTotpCode(tx, deps.config.linkSecret, userId, totpCode)
      : ({ ok: false, reason: 'wrong' } as const);
  const detail: Record<string, unknown> = { purpose };
  if (!result.ok) detail.reason = result.reason;
  if (result.ok && recoveryCode) detail.recoveryCodesLeft = await recoveryCodesLeft(tx, userId);
  await recordOwnAudit(tx, userId, { action, outcome: result.ok ? 'succeeded' : 'rejected', requestId, detail });
  return result.ok ? { ok: true, method: recoveryCode ? 'recovery_code' : 'totp' } : result;
}

async function spendTotpCode(tx: Tx, linkSecret: string, userId: string, code: string): Promise<SecondFactorResult> {
  const [factor] = await tx
    .select({ id: userFactors.id, secretSealed: userFactors.secretSealed, lastUsedStep: userFactors.lastUsedStep })
    .from(userFactors)
    .where(and(eq(userFactors.userId, userId), eq(userFactors.kind, 'totp'), isNotNull(userFactors.confirmedAt)));
  if (!factor?.secretSealed) return { ok: false, reason: 'not_enrolled' };
  // Unreadable after a LINK_SECRET rotation: no code can match; a recovery code still works.
  const secret = openSecret(linkSecret, factor.secretSealed, totpSecretContext(userId));
  if (!secret) return { ok: false, reason: 'wrong' };
  const { acceptedStep, nearbyStep } = matchTotpCode(secret, code);
  const judged = judgeTotpStep(acceptedStep, nearbyStep, factor.lastUsedStep);
  if (!judged.ok) return judged;
  const [spent] = await tx
    .update(userFactors)
    .set({ lastUsedStep: judged.step, lastUsedAt: sql`now()` })
    .where(
      and(
        eq(userFactors.id, factor.id),
        or(isNull(userFactors.lastUsedStep), sql`${userFactors.lastUsedStep} < ${judged.step}`),
      ),
    )
    .returning({ id: userFactors.id });
  // Zero rows: another request accepted this step (or a later one) first.
  return spent ? { ok: true, method: 'totp' } : { ok: false, reason: 'replayed' };
}

async function spendRecoveryCode(tx: Tx, userId: string, code: string): Promise<SecondFactorResult> {
  const codeHash = sha256Hex(code);
  const [spent] = await tx
    .update(recoveryCodes)
    .set({ usedAt: sql`now()` })
    .where(and(eq(recoveryCodes.codeHash, codeHash), eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))
    .returning({ codeHash: recoveryCodes.codeHash });
  if (spent) return { ok: true, method: 'recovery_code' };
  const [known] = await tx
    .select({ usedAt: recoveryCodes.usedAt })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.codeHash, codeHash), eq(recoveryCodes.userId, userId)));
  return { ok: false, reason: known ? 'recovery_code_used' : 'wrong' };
}
