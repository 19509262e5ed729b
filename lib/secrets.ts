import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { RECOVERY_CODE_LENGTH, recoveryCodeAlphabet } from '../core/second-factor.ts';

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

/**
 * The reusable link token of an offer: derived like the delegation links (docs/adr/0002),
 * so only its SHA-256 is stored and the partner's owners can be shown the link again
 * (docs/adr/0029). Offers made before this have a random token, shown once.
 */
export function offerLinkToken(secret: string, offerId: string): string {
  return createHmac('sha256', secret).update(`offer-link:${offerId}`).digest('base64url');
}

/**
 * The personal link token of one client admin for one amendment: derived like the offer
 * links (docs/adr/0002), so only its SHA-256 is stored, and personal, so each admin's
 * email carries a link of its own.
 */
export function amendmentLinkToken(secret: string, amendmentId: string, userId: string): string {
  return createHmac('sha256', secret).update(`amendment-link:${amendmentId}:${userId}`).digest('base64url');
}

/**
 * The token of a staff invitation's link: derived like the offer links (docs/adr/0002), so
 * the outbox keeps a placeholder, the database the SHA-256, and a resent email the same link.
 * A new invitation has a new id, so re-inviting an address kills the old link.
 */
export function staffInvitationToken(secret: string, invitationId: string): string {
  return createHmac('sha256', secret).update(`staff-invitation:${invitationId}`).digest('base64url');
}

/** The token a partner publishes in DNS to prove it holds its single sign-on domain. */
export function ssoDomainToken(secret: string, providerId: string, domain: string): string {
  return createHmac('sha256', secret).update(`sso-domain:${providerId}:${domain.toLowerCase()}`).digest('base64url');
}

/**
 * The key of a delegation's "end this delegation" link, carried by every email to a
 * client admin about it: derived like the offer links, so nothing is stored, and only the
 * mailbox that received it can use it (it leads to a confirmation page, never ends on GET).
 */
export function endLinkToken(secret: string, delegationId: string): string {
  return createHmac('sha256', secret).update(`end-link:${delegationId}`).digest('base64url');
}

/** Whether `token` is the end link's key of this delegation (compared in constant time). */
export function isEndLinkToken(secret: string, delegationId: string, token: string): boolean {
  const expected = Buffer.from(endLinkToken(secret, delegationId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The tag of the bounce address of one send of a delegation's offer email
 * (lib/bounce-address.ts): derived like the offer links, so nothing is stored, and over the
 * attempt too, so an address names one send and no other. 80 bits, lower-case hex, to fit a
 * local part that servers may lower-case.
 */
export function bounceAddressTag(secret: string, delegationId: string, attempt: number): string {
  return createHmac('sha256', secret).update(`bounce-address:${delegationId}.${attempt}`).digest('hex').slice(0, 20);
}

/** API tokens start with a recognisable prefix so secret scanners can spot leaks. */
export const API_TOKEN_PREFIX = 'mdt_';

export function newApiToken(): string {
  return `${API_TOKEN_PREFIX}${randomToken(32)}`;
}

const passwordAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A password people can type: 20 characters from a 56-symbol alphabet (~116 bits). */
export function generatePassword(length = 20): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every symbol equally likely.
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const byte = bytes[i] as number;
    if (byte < 224) out += passwordAlphabet[byte % 56];
  }
  return out.length === length ? out : generatePassword(length);
}

/**
 * A recovery code in canonical form: 20 symbols of a 32-symbol alphabet, 100 random bits
 * (each byte's low 5 bits: 256 is a multiple of 32, so every symbol is equally likely).
 * Stored as its SHA-256 like the other high-entropy tokens: 2^100 guesses are out of reach
 * of any fast hash.
 */
export function newRecoveryCode(): string {
  let code = '';
  for (const byte of randomBytes(RECOVERY_CODE_LENGTH)) code += recoveryCodeAlphabet[byte & 31];
  return code;
}

/** argon2id (the library's default algorithm) with its recommended parameters. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/**
 * Symbols of a temporary password: 23 from the 56-symbol alphabet, 23 × log2(56) ≈ 133.6
 * random bits — at least 128, which is what lets {@link newTemporaryPassword} hash it cheaply.
 */
export const TEMPORARY_PASSWORD_LENGTH = 23;

/**
 * argon2id at its lowest cost (8 KiB, one pass, one lane). Only for generated secrets of
 * ≥ 128 random bits: a slow hash protects guessable passwords, and nobody guesses 2^128
 * candidates however cheap each is. docs/adr/0008-temporary-password-hashing.md.
 */
const highEntropyParameters = { memoryCost: 8, timeCost: 1, parallelism: 1 } as const;

/**
 * A new temporary password and its argon2id hash. Generating and hashing happen together
 * so the cheap parameters can only ever meet a generated ≥ 128-bit password, never one a
 * person chose (those go through {@link hashPassword}).
 */
export async function newTemporaryPassword(): Promise<{ password: string; passwordHash: string }> {
  const password = generatePassword(TEMPORARY_PASSWORD_LENGTH);
  return { password, passwordHash: await hash(password, highEntropyParameters) };
}

// Spent on every sign-in whose stored hash is not a strongly parameterised one (below).
let paddingHash: Promise<string> | undefined;
/** At least the recommended memory cost (19 MiB, the library's default). */
const isStrongHash = (passwordHash: string) =>
  Number(/^\$argon2id\$v=\d+\$m=(\d+),/.exec(passwordHash)?.[1] ?? 0) >= 19_456;

/**
 * Whether `password` matches `passwordHash` (argon2 reads the parameters from the hash).
 * Every answer costs at least one verification at the recommended parameters: a cheap
 * temporary-password hash or an unusable one (`!`) is followed by a verification against
 * a padding hash, so the time of a sign-in does not tell which kind of account it tried.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  let ok: boolean;
  try {
    ok = await verify(passwordHash, password);
  } catch {
    ok = false;
  }
  if (!isStrongHash(passwordHash)) {
    paddingHash ??= hashPassword('padding: spends the time a strong verification takes');
    await verify(await paddingHash, password).catch(() => false);
  }
  return ok;
}
