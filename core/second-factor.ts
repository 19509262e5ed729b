/**
 * The rules of the second factor at sign-in, without I/O: which kinds a user may hold,
 * how a one-time code is judged, what the person is told when it is refused.
 */

/**
 * Kinds of second factor kept in `user_factors`, one row each. Passkeys are a second factor
 * too but have a table of their own (db/schema/passkeys.ts: a user holds several, each
 * with its own public key and counter); `hasSecondFactor` counts both.
 */
export const factorKinds = ['totp'] as const;
export type FactorKind = (typeof factorKinds)[number];

/**
 * The TOTP parameters (RFC 6238) every authenticator app supports: SHA-1, 6 digits, 30 s.
 * Apps that read other values from the QR code often ignore them, so never change these.
 */
export const totpParameters = { algorithm: 'SHA1', digits: 6, period: 30 } as const;

/** Time steps either side of now at which a code is accepted: a slow typist or a clock off by up to 30 s. */
export const TOTP_ACCEPT_WINDOW = 1;

/**
 * Time steps either side of now within which a refused code counts as expired (an old
 * code, or a phone whose clock is minutes off) rather than wrong — only to say so.
 */
export const TOTP_EXPIRED_WINDOW = 10;

/** Recovery codes handed out at enrolment, each usable once. */
export const RECOVERY_CODE_COUNT = 10;

/** How long the step between a right password and the code may take. */
export const SIGN_IN_CHALLENGE_SECONDS = 5 * 60;

/**
 * How recent a session's second factor must be for a sensitive change (adding staff,
 * changing their access, creating API tokens, sign-in settings): older, and the change
 * asks for a code (or a passkey) again first.
 */
export const STEP_UP_MINUTES = 10;

/** How long a started enrolment waits for its first code before it must be started again. */
export const PENDING_ENROLMENT_MINUTES = 30;

/** Why a second factor was refused. */
export type SecondFactorRefusal =
  | 'wrong'
  | 'expired'
  | 'replayed'
  | 'recovery_code_used'
  | 'sign_in_expired'
  | 'enrolment_expired'
  | 'not_enrolled'
  | 'rate_limited';

/** What the person reads for each refusal. Nothing changed in any of these cases. */
export const refusalMessages: Record<SecondFactorRefusal, string> = {
  wrong: 'That code is not right. Enter the 6-digit code your authenticator app shows now, or a recovery code.',
  expired: 'That code has expired. Enter the code your authenticator app shows now (and check the phone’s clock).',
  replayed: 'That code has already been used. Wait for the next code in your authenticator app and enter that one.',
  recovery_code_used: 'That recovery code has already been used. Each recovery code works once: use another one.',
  sign_in_expired: 'Signing in took too long. Enter your email and password again.',
  enrolment_expired: 'Setting up two-factor sign-in took too long. Start again to get a new code.',
  not_enrolled: 'Two-factor sign-in is not turned on for this account.',
  rate_limited:
    'Too many codes were tried for this account. Wait and try again later, or use one of your recovery codes (they are not held).',
};

/** A code as typed, read as a TOTP code ("123 456" → "123456"), or null when it is not one. */
export function readTotpCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${totpParameters.digits}}$`).test(digits) ? digits : null;
}

/** Symbols of a recovery code: lower-case letters and digits without 0, 1, l and o (32: 5 bits each). */
export const recoveryCodeAlphabet = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Symbols per recovery code: 20 × 5 = 100 random bits, shown as four groups of five. */
export const RECOVERY_CODE_LENGTH = 20;

/** A recovery code as typed, in its canonical form (lower case, no dashes or spaces), or null. */
export function readRecoveryCode(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '').toLowerCase();
  if (compact.length !== RECOVERY_CODE_LENGTH) return null;
  for (const ch of compact) if (!recoveryCodeAlphabet.includes(ch)) return null;
  return compact;
}

/** A canonical recovery code as shown to a person: `abcde-fghij-kmnpq-rstuv`. */
export function formatRecoveryCode(code: string): string {
  return code.match(/.{1,5}/g)?.join('-') ?? code;
}

/**
 * Judges a TOTP code from where it matched: `acceptedStep` is the time step it matched
 * within {@link TOTP_ACCEPT_WINDOW} (null if none), `nearbyStep` within
 * {@link TOTP_EXPIRED_WINDOW}. A step at or before the last one accepted is a replay —
 * a code seen once (over a shoulder, in a proxy's log) must not open a second session.
 */
export function judgeTotpStep(
  acceptedStep: number | null,
  nearbyStep: number | null,
  lastUsedStep: number | null,
): { ok: true; step: number } | { ok: false; reason: 'wrong' | 'expired' | 'replayed' } {
  // Outside the window, an old code is expired whether or not it was used back then.
  if (acceptedStep === null) return { ok: false, reason: nearbyStep === null ? 'wrong' : 'expired' };
  if (lastUsedStep !== null && acceptedStep <= lastUsedStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step: acceptedStep };
}
