import { createHash, createHmac, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** A random token of `bytes` random bytes (default 32 = 256 bits), URL-safe. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 of a high-entropy token, hex. Tokens are looked up by this digest; a slow
 * password hash adds nothing when the input already has 256 random bits.
 */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * The offer link token of one delegation: HMAC-SHA256 of its id under the link secret.
 * Derived rather than stored, so that a resent email carries the same link, and only
 * its SHA-256 is kept in the database. See docs/adr/0002-derived-offer-link-tokens.md.
 */
export function delegationLinkToken(secret: string, delegationId: string): string {
  return createHmac('sha256', secret).update(`delegation-link:${delegationId}`).digest('base64url');
}

/** API tokens start with a recognisable prefix so secret scanners can spot leaks. */
export const API_TOKEN_PREFIX = 'mdt_';

export function newApiToken(): string {
  return `${API_TOKEN_PREFIX}${randomToken(32)}`;
}

/** A password people can type: 20 characters from a 56-symbol alphabet (~116 bits). */
export function generatePassword(length = 20): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every symbol equally likely.
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const byte = bytes[i] as number;
    if (byte < 224) out += alphabet[byte % 56];
  }
  return out.length === length ? out : generatePassword(length);
}

/** argon2id (the library's default algorithm) with its recommended parameters. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
