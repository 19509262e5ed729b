import { describe, expect, it } from 'vitest';
import { auditActionLabel } from '../../core/audit-actions.ts';
import { judgeSignCount, PASSKEY_NAME_CHARS, readPasskeyName } from '../../core/passkeys.ts';
import { readAssertion, relyingParty } from '../../lib/webauthn.ts';
import { SoftAuthenticator } from '../helpers/passkey-authenticator.ts';

describe("judging a passkey's signature counter", () => {
  it('accepts a counter that moved forward, or none kept at all', () => {
    expect(judgeSignCount(0, 0)).toBe('ok');
    expect(judgeSignCount(0, 1)).toBe('ok');
    expect(judgeSignCount(41, 42)).toBe('ok');
  });

  it('refuses one that stood still or went back once either is nonzero (a copied key)', () => {
    expect(judgeSignCount(42, 42)).toBe('counter_regressed');
    expect(judgeSignCount(42, 7)).toBe('counter_regressed');
    expect(judgeSignCount(42, 0)).toBe('counter_regressed');
  });
});

describe("a passkey's name", () => {
  it('is trimmed, its spaces folded, and must be 1 to 60 characters', () => {
    expect(readPasskeyName('  Work   laptop ')).toBe('Work laptop');
    expect(readPasskeyName('')).toBeNull();
    expect(readPasskeyName('   ')).toBeNull();
    expect(readPasskeyName(undefined)).toBeNull();
    expect(readPasskeyName('x'.repeat(PASSKEY_NAME_CHARS))).toHaveLength(PASSKEY_NAME_CHARS);
    expect(readPasskeyName('x'.repeat(PASSKEY_NAME_CHARS + 1))).toBeNull();
  });
});

describe('reading an answer', () => {
  const rp = relyingParty({ publicUrl: 'https://mandate.example.com' });

  it('takes the relying party from PUBLIC_URL', () => {
    expect(rp).toEqual({ id: 'mandate.example.com', origin: 'https://mandate.example.com', name: 'Mandate' });
  });

  it('finds the credential, challenge, origin, counter and flags', () => {
    const authenticator = new SoftAuthenticator(rp.origin);
    const read = readAssertion(rp, authenticator.answer({ challenge: 'abc' }, 'usr_1', { signCount: 9 }));
    expect(read).toMatchObject({
      credentialId: authenticator.id,
      clientData: { type: 'webauthn.get', challenge: 'abc', origin: rp.origin },
      rpIdMatches: true,
      signCount: 9,
      userVerified: true,
    });
    const elsewhere = readAssertion(rp, authenticator.answer({ challenge: 'abc' }, null, { rpId: 'other.example' }));
    expect(elsewhere?.rpIdMatches).toBe(false);
  });

  it('is null for what is not an answer', () => {
    for (const text of [
      '',
      'null',
      '{}',
      '[]',
      '{"id":"a","rawId":"a","type":"public-key","response":{}}',
      'x'.repeat(100),
    ])
      expect(readAssertion(rp, text)).toBeNull();
  });

  it('has words for each passkey action', () => {
    for (const action of ['passkey.register', 'passkey.remove', 'passkey.sign_in', 'passkey.confirm'])
      expect(auditActionLabel(action)).not.toBe(action);
  });
});
