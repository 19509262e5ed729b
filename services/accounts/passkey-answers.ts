import { and, eq, sql } from 'drizzle-orm';
import { judgeSignCount, type PasskeyPurpose, type PasskeyRefusal } from '../../core/passkeys.ts';
import type { Tx } from '../../db/client.ts';
import { passkeys } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { readAssertion, relyingParty, verifyAssertion } from '../../lib/webauthn.ts';
import { takePasskeyChallenge } from './passkey-challenges.ts';
import { recordOwnAudit } from './second-factor.ts';

/** A passkey's answer to a sign-in challenge, to check for one purpose. */
export interface PasskeyAnswer {
  purpose: Exclude<PasskeyPurpose, 'register'>;
  /** Who must be answering (the second step's user, the signed-in user); null for a passkey-alone sign-in. */
  userId: string | null;
  /** The answer as the browser's script posted it: WebAuthn's AuthenticationResponseJSON, as text. */
  answer: string;
  requestId?: string | undefined;
}

export type PasskeyAnswerResult =
  | { ok: true; userId: string; passkeyId: string; name: string }
  | { ok: false; reason: PasskeyRefusal; retryAfterSeconds?: number };

/**
 * Checks a passkey's answer and, when right, spends it; records the outcome either way
 * (refusals are answers, never thrown, so the caller's transaction commits their audit
 * rows). In order: it reads as an answer; it was made on this site (origin and RP id);
 * its challenge was ours, live, unused, for this purpose and user (taking it ends it —
 * an answer works once); the passkey is registered and is `userId`'s; the person was
 * verified on the device when the passkey alone signs in; the counter moved forward; the
 * signature checks out against the stored public key. Accepting moves the stored counter
 * with a guarded update, so one answer cannot pass twice. A refusal changes nothing but
 * the challenge it took and the audit trail: in the expected user's organization, or the
 * passkey owner's; an answer that names no known user is only logged.
 */
export async function checkPasskeyAnswer(
  deps: Pick<Deps, 'config' | 'logger'>,
  tx: Tx,
  input: PasskeyAnswer,
): Promise<PasskeyAnswerResult> {
  const rp = relyingParty(deps.config);
  const action = input.purpose === 'sign_in' ? 'passkey.sign_in' : 'passkey.confirm';
  const read = readAssertion(rp, input.answer);
  const [stored] = read
    ? await tx
        .select({
          id: passkeys.id,
          userId: passkeys.userId,
          name: passkeys.name,
          credentialId: passkeys.credentialId,
          publicKey: passkeys.publicKey,
          signCount: passkeys.signCount,
        })
        .from(passkeys)
        .where(eq(passkeys.credentialId, read.credentialId))
        .for('update')
    : [];
  const refuse = async (reason: PasskeyRefusal, extra: Record<string, unknown> = {}): Promise<PasskeyAnswerResult> => {
    const whose = input.userId ?? stored?.userId ?? null;
    const detail = { purpose: input.purpose, reason, ...(stored ? { passkeyId: stored.id } : {}), ...extra };
    if (whose) await recordOwnAudit(tx, whose, { action, outcome: 'rejected', requestId: input.requestId, detail });
    else deps.logger.info({ requestId: input.requestId, ...detail }, 'passkey answer refused (no known user)');
    return { ok: false, reason };
  };

  if (read?.clientData.type !== 'webauthn.get') return refuse(input.answer ? 'malformed' : 'no_answer');
  if (read.clientData.origin !== rp.origin || !read.rpIdMatches) {
    return refuse('wrong_origin', { origin: read.clientData.origin.slice(0, 200) });
  }
  if (!(await takePasskeyChallenge(tx, read.clientData.challenge, input.purpose, input.userId))) {
    return refuse('challenge_unknown');
  }
  if (!stored) return refuse('unknown_passkey');
  if (input.userId !== null && stored.userId !== input.userId) return refuse('other_user');
  // The handle the authenticator keeps with a discoverable passkey is its user's id
  // (lib/webauthn.ts registrationOptions): it must agree with the stored owner.
  const handle = read.response.response.userHandle;
  if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== stored.userId) return refuse('other_user');
  const requireUserVerification = input.purpose === 'sign_in';
  if (requireUserVerification && !read.userVerified) return refuse('not_verified');
  if (judgeSignCount(stored.signCount, read.signCount) !== 'ok') {
    return refuse('counter_regressed', { storedCount: stored.signCount, receivedCount: read.signCount });
  }
  const verified = await verifyAssertion(rp, read, read.clientData.challenge, stored, requireUserVerification);
  if (!verified.ok) {
    deps.logger.info({ requestId: input.requestId, passkeyId: stored.id, error: verified.error }, 'passkey signature');
    return refuse('invalid_signature');
  }
  const [spent] = await tx
    .update(passkeys)
    .set({ signCount: verified.signCount, lastUsedAt: sql`now()` })
    .where(and(eq(passkeys.id, stored.id), eq(passkeys.signCount, stored.signCount)))
    .returning({ id: passkeys.id });
  // Zero rows: the row is locked above, so only a counter moved meanwhile by another answer.
  if (!spent) return refuse('counter_regressed');
  await recordOwnAudit(tx, stored.userId, {
    action,
    outcome: 'succeeded',
    requestId: input.requestId,
    detail: { purpose: input.purpose, passkeyId: stored.id, name: stored.name },
  });
  return { ok: true, userId: stored.userId, passkeyId: stored.id, name: stored.name };
}
