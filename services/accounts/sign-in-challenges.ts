import { and, eq, lte, sql } from 'drizzle-orm';
import { type SecondFactorRefusal, SIGN_IN_CHALLENGE_SECONDS } from '../../core/second-factor.ts';
import type { SignInMethod } from '../../core/sign-in-methods.ts';
import type { Db } from '../../db/client.ts';
import { signInChallenges } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { checkSecondFactor, recordOwnAudit, withSecondFactorAttempt } from './second-factor.ts';
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
  const { token } = input;
  if (!token || !tokenShape.test(token)) return { ok: false, reason: 'sign_in_expired' };
  // Whose challenge, read first: the attempt is counted before the transaction.
  const [owner] = await deps.db
    .select({ userId: signInChallenges.userId })
    .from(signInChallenges)
    .where(eq(signInChallenges.id, sha256Hex(token)));
  if (!owner) return { ok: false, reason: 'sign_in_expired' };
  const attempt = {
    userId: owner.userId,
    code: input.code,
    purpose: 'sign_in' as const,
    requestId: input.requestId,
    clientAddress: input.client.address,
  };
  return withSecondFactorAttempt(deps, attempt, () => completeLocked(deps, token, input));
}

function completeLocked(
  deps: Pick<Deps, 'db' | 'config'>,
  token: string,
  input: { code: string; client: SessionClient; requestId?: string | undefined },
): Promise<ChallengeResult> {
  return deps.db.transaction(async (tx): Promise<ChallengeResult> => {
    const [challenge] = await tx
      .select({
        userId: signInChallenges.userId,
        method: signInChallenges.method,
        live: sql<boolean>`${signInChallenges.expiresAt} > now()`,
      })
      .from(signInChallenges)
      .where(eq(signInChallenges.id, sha256Hex(token)))
      .for('update');
    if (!challenge) return { ok: false, reason: 'sign_in_expired' };
    if (!challenge.live) {
      await tx.delete(signInChallenges).where(eq(signInChallenges.id, sha256Hex(token)));
      await recordOwnAudit(tx, challenge.userId, {
        action: 'two_factor.code',
        outcome: 'rejected',
        requestId: input.requestId,
        detail: { purpose: 'sign_in', reason: 'sign_in_expired' },
      });
      return { ok: false, reason: 'sign_in_expired' };
    }
    const checked = await checkSecondFactor(deps, tx, {
      userId: challenge.userId,
      code: input.code,
      purpose: 'sign_in',
      requestId: input.requestId,
    });
    if (!checked.ok) return checked;
    await tx.delete(signInChallenges).where(eq(signInChallenges.id, sha256Hex(token)));
    return {
      ok: true,
      sessionToken: await createSession(tx, challenge.userId, input.client, {
        // A password and a code is its own method; single sign-on and a code is single sign-on.
        method: challenge.method === 'password' ? 'password_totp' : challenge.method,
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
