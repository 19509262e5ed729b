import { and, count, eq, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { AuditAction } from '../../core/audit-actions.ts';
import { isAppError } from '../../core/errors.ts';
import {
  judgeTotpStep,
  RECOVERY_CODE_COUNT,
  readRecoveryCode,
  readTotpCode,
  type SecondFactorRefusal,
} from '../../core/second-factor.ts';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { organizations, recoveryCodes, userFactors, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import type { RateLimitName } from '../../lib/rate-limits.ts';
import { openSecret } from '../../lib/secret-box.ts';
import { newRecoveryCode, sha256Hex } from '../../lib/secrets.ts';
import { matchTotpCode } from '../../lib/totp.ts';
import { recordAudit } from '../audit/record.ts';
import { userHasSecondFactor } from '../shared/users.ts';

/** Why a code (or a passkey) is being checked: recorded with it, so the trail says what it was for. */
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

/** Which second factors the user holds: what the second step of signing in offers. */
export async function secondFactorsOf(db: DbOrTx, userId: string): Promise<{ totp: boolean; passkeys: number }> {
  const [row] = await db
    .select({
      totp: sql<boolean>`exists (select 1 from user_factors f where f.user_id = "users"."id" and f.kind = 'totp' and f.confirmed_at is not null)`,
      passkeys: sql<number>`(select count(*)::int from passkeys p where p.user_id = "users"."id")`,
    })
    .from(users)
    .where(eq(users.id, userId));
  return { totp: row?.totp === true, passkeys: row?.passkeys ?? 0 };
}

/** Whether the user has a second factor, so signing in needs it after the password. */
export async function hasSecondFactor(db: DbOrTx, userId: string): Promise<boolean> {
  const [row] = await db.select({ has: userHasSecondFactor }).from(users).where(eq(users.id, userId));
  return row?.has === true;
}

/**
 * Ten new recovery codes for the user, replacing any they had: returned once to show,
 * stored as SHA-256 only.
 */
export async function issueRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await tx.insert(recoveryCodes).values(codes.map((c) => ({ codeHash: sha256Hex(c), userId })));
  return codes;
}

/**
 * After a second factor went: the recovery codes go too once the user has none left (they
 * stand in for a second factor; without one, the password alone signs in).
 */
export async function dropRecoveryCodesWithoutFactor(tx: Tx, userId: string): Promise<void> {
  if (!(await hasSecondFactor(tx, userId))) await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
}

/** How many of the user's recovery codes are still unused. */
export async function recoveryCodesLeft(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  return row?.n ?? 0;
}

type AttemptInput = {
  userId: string;
  code: string;
  purpose: SecondFactorPurpose;
  requestId?: string | undefined;
  /** What a refusal for the limit is recorded as (default: by the code's shape; a passkey says so). */
  action?: AuditAction;
};

/** Where an attempt comes from: its client's address (api/web/shared/context.ts clientIp). */
type LimitedAttempt = AttemptInput & { clientAddress: string };

/** What an attempt with this code is recorded as: a recovery code, or a code from the app. */
export const actionForCode = (code: string): AuditAction =>
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
  // Only one-time codes can be guessed: recovery codes and passkeys are not held for the account.
  const action = input.action ?? actionForCode(input.code);
  if (action === 'two_factor.code') limits.push(['secondFactorFailuresPerAccount', input.userId]);
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
      action,
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
  const action = actionForCode(input.code);
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
  if (!factor?.secretSealed) {
    // With a passkey but no app, a code is just wrong: the second step stays open for the passkey.
    return { ok: false, reason: (await hasSecondFactor(tx, userId)) ? 'wrong' : 'not_enrolled' };
  }
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
