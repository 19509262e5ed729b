import { isAppError } from '../../core/errors.ts';
import type { PasskeyRefusal } from '../../core/passkeys.ts';
import type { Deps } from '../../lib/deps.ts';
import { authenticationOptions, type PasskeyRequestOptions, relyingParty } from '../../lib/webauthn.ts';
import { checkPasskeyAnswer, type PasskeyAnswerResult } from './passkey-answers.ts';
import { issuePasskeyChallenge } from './passkey-challenges.ts';
import { passkeyCredentials } from './passkeys.ts';
import { withSecondFactorAttempt } from './second-factor.ts';
import type { SessionClient, SessionOwner } from './sessions.ts';
import { completeSecondStep, findSignInChallenge } from './sign-in-challenges.ts';
import { markSecondFactorPassed } from './step-up.ts';

type PasskeyDeps = Pick<Deps, 'db' | 'config' | 'rateLimits' | 'logger'>;

type Refused = { ok: false; reason: PasskeyRefusal; retryAfterSeconds?: number };

/**
 * "Sign in with a passkey", no email typed: options that let the browser offer any passkey
 * of this site, asking the person to be verified on the device (the passkey stands in for
 * password and code). Each is a row until it expires: the caller counts them per address
 * (api/web/shared/passkey-form.tsx, `passkeyChallengesPerIp`).
 */
export async function startPasskeySignIn(deps: PasskeyDeps): Promise<PasskeyRequestOptions> {
  const options = await authenticationOptions(relyingParty(deps.config), [], 'required');
  await issuePasskeyChallenge(deps.db, options.challenge, 'sign_in', null);
  return options;
}

/**
 * Checks the answer to {@link startPasskeySignIn} (services/accounts/passkey-answers.ts):
 * whose passkey it is tells who signs in. Counted against the sign-in attempts per address.
 * The caller starts the session (api/web/shared/sign-in.ts continueSignIn, method `passkey`).
 */
export async function finishPasskeySignIn(
  deps: PasskeyDeps,
  input: { answer: string; clientAddress: string; requestId?: string | undefined },
): Promise<PasskeyAnswerResult> {
  try {
    await deps.rateLimits.consume('signInPerIp', input.clientAddress);
  } catch (error) {
    if (!isAppError(error, 'RATE_LIMITED')) throw error;
    // No user is known before the answer is read: logged, not audited.
    deps.logger.info({ requestId: input.requestId, ip: input.clientAddress }, 'passkey sign-in rate limited');
    return { ok: false, reason: 'rate_limited', retryAfterSeconds: Number(error.details?.retryAfterSeconds ?? 60) };
  }
  return deps.db.transaction((tx) =>
    checkPasskeyAnswer(deps, tx, {
      purpose: 'sign_in',
      userId: null,
      answer: input.answer,
      requestId: input.requestId,
    }),
  );
}

/**
 * Options for the second step of a sign-in (after a right password), offering the
 * passkeys of the challenge's user; null when the challenge is gone or the user has none.
 */
export async function startSecondStepPasskey(
  deps: Pick<Deps, 'db' | 'config'>,
  token: string | undefined,
): Promise<PasskeyRequestOptions | null> {
  const challenge = await findSignInChallenge(deps.db, token);
  if (!challenge) return null;
  return startPasskeyChallenge(deps, challenge.userId, 'second_step');
}

/**
 * The second step with a passkey: the answer must be from a passkey of the challenge's
 * user (another's is refused, audited); a pass ends the challenge and starts the session.
 * Counted against the user's second-factor attempts, like a code.
 */
export function completeSignInChallengeWithPasskey(
  deps: PasskeyDeps,
  input: { token: string | undefined; answer: string; client: SessionClient; requestId?: string | undefined },
): Promise<{ ok: true; sessionToken: string } | Refused> {
  return completeSecondStep<Refused>(deps, {
    token: input.token,
    client: input.client,
    requestId: input.requestId,
    action: 'passkey.confirm',
    method: (first) => (first === 'password' ? 'password_passkey' : first),
    check: (tx, userId) =>
      checkPasskeyAnswer(deps, tx, {
        purpose: 'second_step',
        userId,
        answer: input.answer,
        requestId: input.requestId,
      }),
  });
}

async function startPasskeyChallenge(
  deps: Pick<Deps, 'db' | 'config'>,
  userId: string,
  purpose: 'second_step' | 'confirm',
): Promise<PasskeyRequestOptions | null> {
  const allow = await passkeyCredentials(deps.db, userId);
  if (allow.length === 0) return null;
  const options = await authenticationOptions(relyingParty(deps.config), allow, 'preferred');
  await issuePasskeyChallenge(deps.db, options.challenge, purpose, userId);
  return options;
}

/**
 * A step-up within a signed-in session, part one: options asking for one of the user's
 * passkeys, for the browser script (`/assets/passkeys-*.js`, a form with
 * `data-passkey="authenticate"`). Null when the user has no passkey (offer a code instead).
 */
export function startPasskeyConfirmation(
  deps: Pick<Deps, 'db' | 'config'>,
  userId: string,
): Promise<PasskeyRequestOptions | null> {
  return startPasskeyChallenge(deps, userId, 'confirm');
}

/**
 * A step-up, part two: checks the answer (one of the owner's passkeys, a challenge from
 * {@link startPasskeyConfirmation}), counted against the user's second-factor attempts
 * and audited (`passkey.confirm`, purpose `confirm`); when right, the owner's session
 * counts as having passed a second factor now ({@link markSecondFactorPassed}, `with`
 * `passkey`) — in the same transaction. The passkey twin of `confirmWithCode`.
 */
export async function finishPasskeyConfirmation(
  deps: PasskeyDeps,
  owner: SessionOwner,
  input: { answer: string; clientAddress: string; requestId?: string | undefined },
): Promise<PasskeyAnswerResult> {
  const attempt = {
    userId: owner.userId,
    code: '',
    purpose: 'step_up' as const,
    requestId: input.requestId,
    action: 'passkey.confirm' as const,
    clientAddress: input.clientAddress,
  };
  return withSecondFactorAttempt(deps, attempt, () =>
    deps.db.transaction(async (tx) => {
      const checked = await checkPasskeyAnswer(deps, tx, {
        purpose: 'confirm',
        userId: owner.userId,
        answer: input.answer,
        requestId: input.requestId,
      });
      if (checked.ok) await markSecondFactorPassed(tx, owner, { method: 'passkey', requestId: input.requestId });
      return checked;
    }),
  );
}
