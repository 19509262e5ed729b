import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import {
  judgeTotpStep,
  PENDING_ENROLMENT_MINUTES,
  RECOVERY_CODE_COUNT,
  readTotpCode,
  type SecondFactorRefusal,
} from '../../core/second-factor.ts';
import { sessions, userFactors } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { openSecret, sealSecret } from '../../lib/secret-box.ts';
import { matchTotpCode, newTotpSecret, totpUri } from '../../lib/totp.ts';
import { notifyContext, notifySecondFactorChange } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import {
  checkSecondFactor,
  dropRecoveryCodesWithoutFactor,
  issueRecoveryCodes,
  recordOwnAudit,
  recoveryCodesLeft,
  type SecondFactorResult,
  secondFactorsOf,
  totpSecretContext,
  withSecondFactorAttempt,
} from './second-factor.ts';
import { endSessionsQuery } from './sessions.ts';

/** Whose two-factor sign-in a verb is about: the signed-in user, from their session. */
export interface FactorOwner {
  userId: string;
  email: string;
  /** The id (SHA-256) of the session making the change: it stays signed in, the others end. */
  sessionId: string;
}

export interface TwoFactorStatus {
  /** An authenticator app is on. */
  enabled: boolean;
  /** Passkeys the user holds: a second factor too (services/accounts/passkeys.ts). */
  passkeys: number;
  since: Date | null;
  recoveryCodesLeft: number;
  /** An enrolment waiting for its first code: the secret to show (as a QR code and as text). */
  pending: { secret: string; uri: string } | null;
}

const stillPending = sql`${userFactors.createdAt} > now() - make_interval(mins => ${PENDING_ENROLMENT_MINUTES})`;

/** Whether the user has two-factor sign-in, and the enrolment they started, if any. */
export async function twoFactorStatus(deps: Pick<Deps, 'db' | 'config'>, owner: FactorOwner): Promise<TwoFactorStatus> {
  const { passkeys } = await secondFactorsOf(deps.db, owner.userId);
  const [factor] = await deps.db
    .select({
      secretSealed: userFactors.secretSealed,
      confirmedAt: userFactors.confirmedAt,
      fresh: sql<boolean>`${stillPending}`,
      pendingSessionId: userFactors.pendingSessionId,
    })
    .from(userFactors)
    .where(and(eq(userFactors.userId, owner.userId), eq(userFactors.kind, 'totp')));
  if (factor?.confirmedAt) {
    return {
      enabled: true,
      passkeys,
      since: factor.confirmedAt,
      recoveryCodesLeft: await recoveryCodesLeft(deps.db, owner.userId),
      pending: null,
    };
  }
  const secret =
    factor?.secretSealed && factor.fresh && factor.pendingSessionId === owner.sessionId
      ? openSecret(deps.config.linkSecret, factor.secretSealed, totpSecretContext(owner.userId))
      : null;
  return {
    enabled: false,
    passkeys,
    since: null,
    recoveryCodesLeft: await recoveryCodesLeft(deps.db, owner.userId),
    pending: secret ? { secret, uri: totpUri(secret, owner.email) } : null,
  };
}

/**
 * Starts (or starts again) enrolling an authenticator app: a new secret, sealed, waiting
 * for its first code. Nothing changes at sign-in until that code confirms it.
 */
export async function startTotpEnrolment(deps: Pick<Deps, 'db' | 'config'>, owner: FactorOwner): Promise<void> {
  const secretSealed = sealSecret(deps.config.linkSecret, newTotpSecret(), totpSecretContext(owner.userId));
  // Replaces a pending enrolment, never a confirmed one (the update's own condition).
  const rows = await deps.db
    .insert(userFactors)
    .values({
      id: newId('userFactor'),
      userId: owner.userId,
      kind: 'totp',
      secretSealed,
      pendingSessionId: owner.sessionId,
    })
    .onConflictDoUpdate({
      target: userFactors.userId,
      targetWhere: sql`${userFactors.kind} = 'totp'`,
      set: {
        secretSealed,
        createdAt: sql`now()`,
        lastUsedStep: null,
        lastUsedAt: null,
        pendingSessionId: owner.sessionId,
      },
      setWhere: isNull(userFactors.confirmedAt),
    })
    .returning({ id: userFactors.id });
  if (rows.length === 0) throw new AppError('CONFLICT', 'Two-factor sign-in is already on for this account.');
}

/**
 * Confirms an enrolment with a first code from the app, turning two-factor sign-in on:
 * ten new recovery codes (returned once, stored as SHA-256), every other session of the
 * user ended, an audit event. A wrong or late code changes nothing but the trail.
 */
export async function confirmTotpEnrolment(
  deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>,
  owner: FactorOwner,
  input: { code: string; requestId?: string | undefined },
): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; reason: SecondFactorRefusal }> {
  const result = await confirmLocked(deps, owner, input);
  if (!result.ok) return result;
  await enqueueEmails(deps, result.emailIds);
  return { ok: true, recoveryCodes: result.recoveryCodes };
}

function confirmLocked(
  deps: Pick<Deps, 'db' | 'config'>,
  owner: FactorOwner,
  input: { code: string; requestId?: string | undefined },
) {
  return deps.db.transaction(async (tx) => {
    const [pending] = await tx
      .select({ id: userFactors.id, secretSealed: userFactors.secretSealed, fresh: sql<boolean>`${stillPending}` })
      .from(userFactors)
      .where(
        and(
          eq(userFactors.userId, owner.userId),
          eq(userFactors.kind, 'totp'),
          isNull(userFactors.confirmedAt),
          // Only the session that started it (it alone was shown the key).
          eq(userFactors.pendingSessionId, owner.sessionId),
        ),
      );
    const refuse = async (reason: SecondFactorRefusal) => {
      await recordOwnAudit(tx, owner.userId, {
        action: 'two_factor.enable',
        outcome: 'rejected',
        requestId: input.requestId,
        detail: { reason },
      });
      return { ok: false as const, reason };
    };
    const secret =
      pending?.secretSealed &&
      openSecret(deps.config.linkSecret, pending.secretSealed, totpSecretContext(owner.userId));
    if (!pending || !secret || !pending.fresh) return refuse('enrolment_expired');
    const code = readTotpCode(input.code);
    const match = code ? matchTotpCode(secret, code) : { acceptedStep: null, nearbyStep: null };
    const judged = judgeTotpStep(match.acceptedStep, match.nearbyStep, null);
    if (!judged.ok) return refuse(judged.reason);
    const [confirmed] = await tx
      .update(userFactors)
      // This code's step counts as used: it cannot also sign in.
      .set({ confirmedAt: sql`now()`, lastUsedStep: judged.step, lastUsedAt: sql`now()`, pendingSessionId: null })
      // The key the code was checked against: a "start again" in another tab meanwhile
      // must not switch on a key this person never scanned.
      .where(
        and(
          eq(userFactors.id, pending.id),
          isNull(userFactors.confirmedAt),
          eq(userFactors.secretSealed, pending.secretSealed as string),
        ),
      )
      .returning({ id: userFactors.id });
    if (!confirmed) throw new AppError('CONFLICT', 'Two-factor sign-in is already on for this account.');
    const codes = await issueRecoveryCodes(tx, owner.userId);
    await endSessionsQuery(tx, owner.userId, { except: owner.sessionId });
    // The first code was a second factor passed in this session, as a step-up would be.
    await tx.update(sessions).set({ secondFactorAt: sql`now()` }).where(eq(sessions.id, owner.sessionId));
    await recordOwnAudit(tx, owner.userId, {
      action: 'two_factor.enable',
      outcome: 'succeeded',
      requestId: input.requestId,
      detail: { kind: 'totp', recoveryCodes: RECOVERY_CODE_COUNT },
    });
    const emailIds = await notifySecondFactorChange(tx, notifyContext(deps.config), {
      userId: owner.userId,
      change: 'totp_on',
      eventKey: `${pending.id}.on`,
    });
    return { ok: true as const, recoveryCodes: codes, emailIds };
  });
}

/**
 * Turns two-factor sign-in off, on a fresh code from the app or a recovery code (checked
 * like one at sign-in: limited, spent, audited): the factor and the recovery codes go,
 * and every other session of the user ends.
 */
export async function disableTwoFactor(
  deps: Pick<Deps, 'db' | 'config' | 'rateLimits' | 'queues' | 'logger'>,
  owner: FactorOwner,
  input: { code: string; clientAddress: string; requestId?: string | undefined },
): Promise<SecondFactorResult> {
  const attempt = {
    userId: owner.userId,
    code: input.code,
    purpose: 'disable' as const,
    requestId: input.requestId,
    clientAddress: input.clientAddress,
  };
  const result = await withSecondFactorAttempt(deps, attempt, () => disableLocked(deps, owner, attempt));
  if (!result.ok) return result;
  await enqueueEmails(deps, result.emailIds);
  return { ok: true, method: result.method };
}

function disableLocked(
  deps: Pick<Deps, 'db' | 'config'>,
  owner: FactorOwner,
  attempt: { userId: string; code: string; purpose: 'disable'; requestId?: string | undefined },
): Promise<
  Extract<SecondFactorResult, { ok: false }> | { ok: true; method: 'totp' | 'recovery_code'; emailIds: string[] }
> {
  const input = attempt;
  return deps.db.transaction(async (tx) => {
    const result = await checkSecondFactor(deps, tx, attempt);
    if (!result.ok) return result;
    const removed = await tx
      .delete(userFactors)
      .where(and(eq(userFactors.userId, owner.userId), isNotNull(userFactors.confirmedAt)))
      .returning({ id: userFactors.id });
    // Kept while a passkey is left: they stand in for it too.
    await dropRecoveryCodesWithoutFactor(tx, owner.userId);
    await endSessionsQuery(tx, owner.userId, { except: owner.sessionId });
    await recordOwnAudit(tx, owner.userId, {
      action: 'two_factor.disable',
      outcome: 'succeeded',
      requestId: input.requestId,
      detail: { kind: 'totp', with: result.method },
    });
    const emailIds = await notifySecondFactorChange(tx, notifyContext(deps.config), {
      userId: owner.userId,
      change: 'totp_off',
      eventKey: `${removed[0]?.id ?? owner.userId}.off`,
    });
    return { ...result, emailIds };
  });
}
