/**
 * The rules of passkeys (WebAuthn credentials), without I/O: what a challenge is for, how
 * long it lives, how a signature counter is judged, what a person is told when a passkey
 * is refused.
 */

/**
 * What a WebAuthn challenge was issued for, one row each; a challenge answers only the
 * purpose it was issued for (a registration's cannot sign anyone in).
 */
export const passkeyPurposeTable = {
  /** Adding a passkey to the signed-in user's account. */
  register: { forKnownUser: true },
  /** Signing in with a passkey alone (a discoverable credential): the user is known only from the answer. */
  sign_in: { forKnownUser: false },
  /** The second step of a sign-in whose password (or single sign-on) was right. */
  second_step: { forKnownUser: true },
  /** Re-confirming a second factor within a signed-in session (a step-up). */
  confirm: { forKnownUser: true },
} as const;

export type PasskeyPurpose = keyof typeof passkeyPurposeTable;
export const passkeyPurposes = Object.keys(passkeyPurposeTable) as [PasskeyPurpose, ...PasskeyPurpose[]];

/** How long the browser has to answer a challenge: the authenticator's prompt, and a person reading it. */
export const PASSKEY_CHALLENGE_SECONDS = 5 * 60;

/** Passkeys one user may hold: several devices, not a collection. */
export const MAX_PASSKEYS_PER_USER = 10;

/** Longest name of a passkey, as its owner typed it ("Work laptop"). */
export const PASSKEY_NAME_CHARS = 60;

/** Why a passkey was refused. */
export type PasskeyRefusal =
  | 'no_answer'
  | 'malformed'
  | 'challenge_unknown'
  | 'wrong_origin'
  | 'unknown_passkey'
  | 'other_user'
  | 'counter_regressed'
  | 'not_verified'
  | 'invalid_signature'
  | 'already_registered'
  | 'too_many'
  | 'bad_name'
  | 'sign_in_expired'
  | 'rate_limited';

/** What the person reads for each refusal. Nothing changed in any of these cases. */
export const passkeyRefusalMessages: Record<PasskeyRefusal, string> = {
  no_answer:
    'Your browser did not answer with a passkey. Passkeys need JavaScript: allow it for this site, or sign in another way.',
  malformed: 'The passkey answer could not be read. Try again.',
  challenge_unknown: 'This passkey request has expired or was already used. Try again.',
  wrong_origin: 'This passkey answer was made for another site. Use a passkey made for this site.',
  unknown_passkey: 'This passkey is not registered with Mandate (it may have been removed). Sign in another way.',
  other_user: 'This passkey belongs to another account. Use a passkey of the account you are signing in to.',
  counter_regressed:
    'This passkey answered with a use count lower than one already seen: it may have been copied. It was not accepted.',
  not_verified: 'Your passkey did not verify you (no PIN, fingerprint or face). Try again and confirm on the device.',
  invalid_signature: 'The passkey answer did not check out. Try again.',
  already_registered: 'This passkey is already registered.',
  too_many: `An account can hold at most ${MAX_PASSKEYS_PER_USER} passkeys. Remove one first.`,
  bad_name: `Give the passkey a name of 1 to ${PASSKEY_NAME_CHARS} characters, such as "Work laptop".`,
  sign_in_expired: 'Signing in took too long. Enter your email and password again.',
  rate_limited: 'Too many passkey attempts. Wait a quarter of an hour and try again.',
};

/** A passkey's name as typed, trimmed, or null when empty or too long. */
export function readPasskeyName(input: string | undefined): string | null {
  const name = (input ?? '').replace(/\s+/g, ' ').trim();
  return name.length > 0 && name.length <= PASSKEY_NAME_CHARS ? name : null;
}

/**
 * Judges an authenticator's signature counter (WebAuthn §6.1.1): it must move forward
 * whenever either value is nonzero. A counter that stands still or goes back means two
 * copies of one key are in use: refused. Authenticators that keep no counter send 0 always.
 */
export function judgeSignCount(stored: number, received: number): 'ok' | 'counter_regressed' {
  if (stored === 0 && received === 0) return 'ok';
  return received > stored ? 'ok' : 'counter_regressed';
}
