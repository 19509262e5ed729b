import { describe, expect, it } from 'vitest';
import { isId, newId } from '../../core/ids.ts';
import {
  delegationLinkToken,
  generatePassword,
  hashPassword,
  newApiToken,
  newTemporaryPassword,
  offerLinkToken,
  sha256Hex,
  TEMPORARY_PASSWORD_LENGTH,
  verifyPassword,
} from '../../lib/secrets.ts';

describe('secrets', () => {
  it('hashes passwords with argon2id and verifies them', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'wrong')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
  });

  it('hashes only generated temporary passwords of at least 128 bits at the lowest cost', async () => {
    expect(TEMPORARY_PASSWORD_LENGTH * Math.log2(56)).toBeGreaterThanOrEqual(128);
    const { password, passwordHash } = await newTemporaryPassword();
    expect(password).toMatch(new RegExp(`^[A-Za-z2-9]{${TEMPORARY_PASSWORD_LENGTH}}$`));
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
    expect(await verifyPassword(passwordHash, password)).toBe(true);
    expect(await verifyPassword(passwordHash, `${password}x`)).toBe(false);
    // A password someone chose keeps the recommended parameters.
    expect(await hashPassword('correct horse battery staple')).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('derives the same link token for the same delegation and secret only', () => {
    const secret = 's'.repeat(32);
    const a = delegationLinkToken(secret, 'dlg_1');
    expect(delegationLinkToken(secret, 'dlg_1')).toBe(a);
    expect(delegationLinkToken(secret, 'dlg_2')).not.toBe(a);
    expect(delegationLinkToken('t'.repeat(32), 'dlg_1')).not.toBe(a);
    // 256 bits, URL-safe.
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('derives an offer’s reusable link apart from any delegation’s, even under the same id', () => {
    const secret = 's'.repeat(32);
    const a = offerLinkToken(secret, 'ofr_1');
    expect(offerLinkToken(secret, 'ofr_1')).toBe(a);
    expect(offerLinkToken(secret, 'ofr_2')).not.toBe(a);
    expect(offerLinkToken('t'.repeat(32), 'ofr_1')).not.toBe(a);
    expect(delegationLinkToken(secret, 'ofr_1')).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('makes distinct, prefixed API tokens and passwords', () => {
    const tokens = new Set(Array.from({ length: 100 }, newApiToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^mdt_[A-Za-z0-9_-]{43}$/);
    const password = generatePassword();
    expect(password).toMatch(/^[A-Za-z2-9]{20}$/);
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('makes prefixed ids that sort by creation', () => {
    const ids = Array.from({ length: 50 }, () => newId('delegation'));
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => isId('delegation', id))).toBe(true);
    expect(isId('offer', ids[0] as string)).toBe(false);
  });
});
