import { Secret, TOTP } from 'otpauth';
import { TOTP_ACCEPT_WINDOW, TOTP_EXPIRED_WINDOW, totpParameters } from '../core/second-factor.ts';

/** A new TOTP shared secret: 20 random bytes (RFC 4226's recommended 160 bits), base32 as apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string, account = 'Mandate'): TOTP {
  return new TOTP({ issuer: 'Mandate', label: account, secret: Secret.fromBase32(secretBase32), ...totpParameters });
}

/** The `otpauth://` URI an authenticator app reads from the QR code. */
export function totpUri(secretBase32: string, account: string): string {
  return totp(secretBase32, account).toString();
}

/**
 * Where a code matches around `timestamp` (ms): the time step it belongs to within the
 * accepted window, and within the wider one that tells an old code from a wrong one.
 * otpauth compares in constant time and tries the nearest steps first.
 */
export function matchTotpCode(
  secretBase32: string,
  code: string,
  timestamp = Date.now(),
): { acceptedStep: number | null; nearbyStep: number | null } {
  const otp = totp(secretBase32);
  const now = otp.counter({ timestamp });
  const at = (window: number) => {
    const delta = otp.validate({ token: code, timestamp, window });
    return delta === null ? null : now + delta;
  };
  const acceptedStep = at(TOTP_ACCEPT_WINDOW);
  if (acceptedStep !== null) return { acceptedStep, nearbyStep: acceptedStep };
  // Only an old code is "expired": telling a code of a step still to come from a wrong one
  // would let a guess that lands ahead count as a hit (the same code opens minutes later).
  const nearby = at(TOTP_EXPIRED_WINDOW);
  return { acceptedStep: null, nearbyStep: nearby !== null && nearby < now ? nearby : null };
}
