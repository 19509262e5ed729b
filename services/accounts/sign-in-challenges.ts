import { and, eq, lte, sql } from 'drizzle-orm';
import type { AuditAction } from '../../core/audit-actions.ts';
import { type SecondFactorRefusal, SIGN_IN_CHALLENGE_SECONDS } from '../../core/second-factor.ts';
import type { SignInMethod } from '../../core/sign-in-methods.ts';
import type { Db, Tx } from '../../db/client.ts';
import { signInChallenges } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import {
  actionForCode,
  checkSecondFactor,
  recordOwnAudit,
  type SecondFactorResult,
  withSecondFactorAttempt,
} from './second-factor.ts';
import { createSession, type SessionClient } from './sessions.ts';

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/**
 * Starts the second step of a sign-in whose password was right: a row that remembers
 * who, for a few minutes. Returns the token for the browser's cookie (only its SHA-256 is
 * kept). This is not a session: no page but the second step reads it.
 */
export async function startSignInChallenge(db: Db, userId: string, method: SignInMethod = 'password'): Promise<string> {
  const token = randomToken(32);
  // The user's abandoned ones go now; nothing else sweeps this table, and it stays small.
  await db
    .delete(signInChallenges)
    .where(and(eq(signInChallenges.userId, userId), lte(signInChallenges.expiresAt, sql`now()`)));
  await db.insert(signInChallenges).values({
    id: sha256Hex(token),
    userId,
    method,
    expiresAt: sql`now() + make_interval(secs => ${SIGN_IN_CHALLENGE_SECONDS})`,
  });
  return token;
}

/** The live challenge behind a cookie's token, or null (none, or expired). */
export async function findSignInChallenge(db: Db, token: string | undefined): Promise<{ userId: string } | null> {
  if (!token || !tokenShape.test(token)) return null;
  const [row] = await db
    .select({ userId: signInChallenges.userId })
    .from(signInChallenges)
    .where(and(eq(signInChallenges.id, sha256Hex(token)), sql`${signInChallenges.expiresAt} > now()`));
  return row ?? null;
}

export type ChallengeResult =
  | { ok: true; sessionToken: string }
  | { ok: false; reason: SecondFactorRefusal; retryAfterSeconds?: number };

/**
 * The second step: a right code (or recovery code) ends the challenge and starts the
 * session, in one transaction; anything else is refused and recorded, and the challenge
 * stays for another try until it expires. The challenge row is locked while its code is
 * checked, so it completes once.
 */
export async function completeSignInChallenge(
  deps: Pick<Deps, 'db' | 'config' | 'rateLimits'>,
  input: { token: string | undefined; code: string; client: SessionClient; requestId?: string | undefined },
): Promise<ChallengeResult> {
  return completeSecondStep<Extract<SecondFactorResult, { ok: false }>>(deps, {
    ...input,
    action: actionForCode(input.code),
    // A password and a code is its own method; single sign-on and a code is single sign-on.
    method: (first) => (first === 'password' ? 'password_totp' : first),
    check: (tx, userId) =>
      checkSecondFactor(deps, tx, { userId, code: input.code, purpose: 'sign_in', requestId: input.requestId }),
  });
}

/** How one second step is checked: by a code (above) or a passkey (passkey-sign-in.ts). */
export interface SecondStep<F extends { ok: false; reason: string }> {
  token: string | undefined;
  client: SessionClient;
  requestId?: string | undefined;
  /** What an attempt is recorded as (its refusal for the limit, a challenge that expired). */
  action: AuditAction;
  /** The session's sign-in method, from how the first step was passed. */
  method: (first: SignInMethod) => SignInMethod;
  /** Checks the second factor for the challenge's user, inside its transaction; records its own outcome. */
  check: (tx: Tx, userId: string) => Promise<{ ok: true } | F>;
}

/**
 * Completes a second step, however its factor is checked: the attempt counted against the
 * limits (services/accounts/second-factor.ts withSecondFactorAttempt), then, in
 * one transaction with the challenge row locked (so it completes once), `check`; a pass
 * ends the challenge and starts the session.
 */
export async function completeSecondStep<F extends { ok: false; reason: string }>(
  deps: Pick<Deps, 'db' | 'rateLimits'>,
  step: SecondStep<F>,
): Promise<
  | { ok: true; sessionToken: string }
  | F
  | { ok: false; reason: 'sign_in_expired' | 'rate_limited'; retryAfterSeconds?: number }
> {
  const { token } = step;
  if (!token || !tokenShape.test(token)) return { ok: false, reason: 'sign_in_expired' };
  // Whose challenge, read first: the attempt is counted before the transaction.
  const [owner] = await deps.db
    .select({ userId: signInChallenges.userId })
    .from(signInChallenges)
    .where(eq(signInChallenges.id, sha256Hex(token)));
  if (!owner) return { ok: false, reason: 'sign_in_expired' };
  const attempt = {
    userId: owner.userId,
    code: '',
    purpose: 'sign_in' as const,
    requestId: step.requestId,
    action: step.action,
    clientAddress: step.client.address,
  };
  return withSecondFactorAttempt(deps, attempt, () => completeLocked(deps, token, step));
}

function completeLocked<F extends { ok: false; reason: string }>(
  deps: Pick<Deps, 'db'>,
  token: string,
  step: SecondStep<F>,
): Promise<{ ok: true; sessionToken: string } | F | { ok: false; reason: 'sign_in_expired' }> {
  return deps.db.transaction(async (tx) => {
    const [challenge] = await tx
      .select({
        userId: signInChallenges.userId,
        method: signInChallenges.method,
        live: sql<boolean>`${signInChallenges.expiresAt} > now()`,
      })
      .from(signInChallenges)
      .where(eq(signInChallenges.id, sha256Hex(token)))
      .for('update');
    if (!challenge) return { ok: false as const, reason: 'sign_in_expired' as const };
    if (!challenge.live) {
      await tx.delete(signInChallenges).where(eq(signInChallenges.id, sha256Hex(token)));
      await recordOwnAudit(tx, challenge.userId, {
        action: step.action,
        outcome: 'rejected',
        requestId: step.requestId,
        detail: { purpose: 'sign_in', reason: 'sign_in_expired' },
      });
      return { ok: false as const, reason: 'sign_in_expired' as const };
    }
    const checked = await step.check(tx, challenge.userId);
    if (!checked.ok) return checked;
    await tx.delete(signInChallenges).where(eq(signInChallenges.id, sha256Hex(token)));
    return {
      ok: true as const,
      sessionToken: await createSession(tx, challenge.userId, step.client, {
        method: step.method(challenge.method),
        secondFactor: true,
      }),
    };
  });
}

/** Forgets a challenge (the person signed out or started over). */
export async function endSignInChallenge(db: Db, token: string | undefined): Promise<void> {
  if (token && tokenShape.test(token))
    await db.delete(signInChallenges).where(eq(signInChallenges.id, sha256Hex(token)));
}
