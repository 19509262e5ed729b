import { describe, expect, it } from 'vitest';
import { isSameOrSubdomain, normalizeDomainName, txtRecordsMatch } from '../../core/domain-names.ts';

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
