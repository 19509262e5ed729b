import { describe, expect, it } from 'vitest';
import {
  domainCheckPauseMs,
  inAbout,
  isSameOrSubdomain,
  normalizeDomainName,
  txtRecordsMatch,
} from '../../core/domain-names.ts';

describe('normalizeDomainName', () => {
  it.each([
    ['Contoso.COM', 'contoso.com'],
    ['mail.contoso.co.uk.', 'mail.contoso.co.uk'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['  fabrikam.io ', 'fabrikam.io'],
  ])('%j → %s', (raw, name) => {
    expect(normalizeDomainName(raw)).toEqual({ name });
  });

  it.each([
    'com',
    'co.uk',
    'github.io',
    '192.168.1.1',
    '[::1]',
    'localhost',
    '-bad.com',
    'a..b.com',
    'exa mple.com',
    `${'a'.repeat(64)}.com`,
    '',
    'x.123',
  ])('refuses %j', (raw) => {
    expect(normalizeDomainName(raw)).toHaveProperty('reason');
  });
});

describe('domain helpers', () => {
  it('knows subdomains', () => {
    expect(isSameOrSubdomain('a.contoso.com', 'contoso.com')).toBe(true);
    expect(isSameOrSubdomain('contoso.com', 'contoso.com')).toBe(true);
    expect(isSameOrSubdomain('evilcontoso.com', 'contoso.com')).toBe(false);
  });

  it('matches the verification record, joined across TXT strings', () => {
    expect(txtRecordsMatch([['v=spf1 -all'], ['mandate-verification=', 'abc']], 'abc')).toBe(true);
    expect(txtRecordsMatch([['abc']], 'abc')).toBe(false);
    expect(txtRecordsMatch([], 'abc')).toBe(false);
  });
});

describe('the pause before the next look for a verification record', () => {
  it('doubles from DOMAIN_VERIFY_RETRY_MS up to 30 minutes, and reads in words', () => {
    expect([1, 2, 3, 4].map((n) => domainCheckPauseMs(60_000, n))).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(domainCheckPauseMs(60_000, 40)).toBe(30 * 60_000);
    expect(inAbout(50)).toBe('in a few seconds');
    expect(inAbout(60_000)).toBe('in about 1 minute');
    expect(inAbout(240_000)).toBe('in about 4 minutes');
  });
});
