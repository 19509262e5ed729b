import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { auditActionLabel } from '../../core/audit-actions.ts';
import {
  formatRecoveryCode,
  judgeTotpStep,
  RECOVERY_CODE_LENGTH,
  readRecoveryCode,
  readTotpCode,
  recoveryCodeAlphabet,
} from '../../core/second-factor.ts';
import { openSecret, sealSecret } from '../../lib/secret-box.ts';
import { newRecoveryCode } from '../../lib/secrets.ts';
import { matchTotpCode, newTotpSecret, totpUri } from '../../lib/totp.ts';

const key = 'a link secret of at least thirty-two characters';

describe('judging a TOTP code', () => {
  it('accepts a step after the last one used, and refuses it or an earlier one as a replay', () => {
    expect(judgeTotpStep(100, 100, null)).toEqual({ ok: true, step: 100 });
    expect(judgeTotpStep(100, 100, 99)).toEqual({ ok: true, step: 100 });
    expect(judgeTotpStep(100, 100, 100)).toEqual({ ok: false, reason: 'replayed' });
    expect(judgeTotpStep(99, 99, 100)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('tells an old code (expired) from a wrong one', () => {
    expect(judgeTotpStep(null, 95, null)).toEqual({ ok: false, reason: 'expired' });
    expect(judgeTotpStep(null, 95, 100)).toEqual({ ok: false, reason: 'expired' });
    expect(judgeTotpStep(null, null, 95)).toEqual({ ok: false, reason: 'wrong' });
  });
});

describe('codes as typed', () => {
  it('reads TOTP codes with spaces, and nothing else', () => {
    expect(readTotpCode('123 456')).toBe('123456');
    expect(readTotpCode('123456')).toBe('123456');
    expect(readTotpCode('12345')).toBeNull();
    expect(readTotpCode('12345a')).toBeNull();
    expect(readTotpCode('１２３４５６')).toBeNull();
  });

  it('makes 100-bit recovery codes and reads them back however they are typed', () => {
    expect(RECOVERY_CODE_LENGTH * Math.log2(recoveryCodeAlphabet.length)).toBeGreaterThanOrEqual(100);
    const codes = new Set(Array.from({ length: 200 }, newRecoveryCode));
    expect(codes.size).toBe(200);
    for (const code of codes) {
      expect(code).toMatch(new RegExp(`^[${recoveryCodeAlphabet}]{${RECOVERY_CODE_LENGTH}}$`));
      const shown = formatRecoveryCode(code);
      expect(shown).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
      expect(readRecoveryCode(shown)).toBe(code);
      expect(readRecoveryCode(` ${shown.toUpperCase().replaceAll('-', ' ')} `)).toBe(code);
    }
    expect(readRecoveryCode('abcde-fghij-kmnpq-rstu0')).toBeNull(); // 0 is not in the alphabet
    expect(readRecoveryCode('abcde-fghij')).toBeNull();
  });
});

describe('sealed secrets', () => {
  it('open with the same key and context only, and never show the plaintext', () => {
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'totp:usr_1');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sealSecret(key, 'JBSWY3DPEHPK3PXP', 'totp:usr_1')).not.toBe(sealed); // a fresh IV each time
    expect(openSecret(key, sealed, 'totp:usr_1')).toBe('JBSWY3DPEHPK3PXP');
    expect(openSecret(`${key}!`, sealed, 'totp:usr_1')).toBeNull();
    expect(openSecret(key, sealed, 'totp:usr_2')).toBeNull();
    const [v, iv, data, tag] = sealed.split('.') as [string, string, string, string];
    const flipped = `${data.startsWith('A') ? 'B' : 'A'}${data.slice(1)}`; // a changed byte
    expect(openSecret(key, [v, iv, flipped, tag].join('.'), 'totp:usr_1')).toBeNull();
    expect(openSecret(key, 'garbage', 'totp:usr_1')).toBeNull();
  });
});

describe('TOTP codes', () => {
  it('match the codes an authenticator app computes, with the step they belong to', () => {
    const secret = newTotpSecret();
    const app = new TOTP({ secret: Secret.fromBase32(secret) }); // what a phone does with the key
    const now = Date.now();
    const step = Math.floor(now / 30_000);
    expect(matchTotpCode(secret, app.generate({ timestamp: now }), now)).toEqual({
      acceptedStep: step,
      nearbyStep: step,
    });
    expect(matchTotpCode(secret, app.generate({ timestamp: now + 30_000 }), now).acceptedStep).toBe(step + 1);
    const old = matchTotpCode(secret, app.generate({ timestamp: now - 3 * 30_000 }), now);
    expect(old).toEqual({ acceptedStep: null, nearbyStep: step - 3 });
    // A code of a step still to come is just wrong: "expired" would tell a guess it hit.
    const ahead = matchTotpCode(secret, app.generate({ timestamp: now + 3 * 30_000 }), now);
    expect(ahead).toEqual({ acceptedStep: null, nearbyStep: null });
    expect(totpUri(secret, 'kim@example.com')).toBe(
      `otpauth://totp/Mandate:kim%40example.com?issuer=Mandate&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('has words for every two-factor audit action', () => {
    for (const action of ['two_factor.enable', 'two_factor.disable', 'two_factor.code', 'two_factor.recovery_code']) {
      expect(auditActionLabel(action)).not.toBe(action);
    }
  });
});

describe('sealed secrets, tampered', () => {
  it('do not open with a shortened tag', () => {
    const key = 'k'.repeat(48);
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'totp:usr_1');
    const parts = sealed.split('.');
    const tag = Buffer.from(parts[3] as string, 'base64url');
    const short = [...parts.slice(0, 3), tag.subarray(0, 4).toString('base64url')].join('.');
    expect(openSecret(key, short, 'totp:usr_1')).toBeNull();
    expect(openSecret(key, sealed, 'totp:usr_1')).toBe('JBSWY3DPEHPK3PXP');
  });
});
