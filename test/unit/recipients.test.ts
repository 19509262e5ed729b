import { describe, expect, it } from 'vitest';
import type { AppError } from '../../core/errors.ts';
import { MAX_RECIPIENTS, normalizeEmail, screenRecipients } from '../../core/recipients.ts';
import { parseRecipientsCsv } from '../../core/recipients-csv.ts';

describe('normalizeEmail', () => {
  it('trims and lower-cases the domain only', () => {
    expect(normalizeEmail('  Alex.Admin@Contoso.EXAMPLE ')).toEqual({ email: 'Alex.Admin@contoso.example' });
  });

  it.each([
    ['', 'email is missing'],
    ['not-an-address', 'email is not a valid address'],
    ['@example.com', 'email is not a valid address'],
    ['a@b', 'email is not a valid address'],
    ['a\r\nBcc: victim@example.com@x.example', 'email contains control characters'],
    [`${'a'.repeat(250)}@x.example`, 'email is longer than 254 characters'],
    [`${'a'.repeat(65)}@x.example`, 'email is not a valid address'],
  ])('rejects %j', (input, reason) => {
    expect(normalizeEmail(input)).toEqual({ reason });
  });
});

describe('screenRecipients', () => {
  it('keeps valid rows and reports invalid ones and duplicates by 1-based row', () => {
    const { accepted, rejected } = screenRecipients([
      { email: 'a@x.example', name: ' Alex ', company: 'Contoso' },
      { email: 'nope' },
      { email: 'A@X.example' },
      { email: 'b@x.example', name: 'Bad\nName' },
      { email: 'c@x.example', name: '', company: '   ' },
    ]);
    expect(accepted).toEqual([
      { email: 'a@x.example', name: 'Alex', company: 'Contoso' },
      { email: 'c@x.example', name: null, company: null },
    ]);
    expect(rejected).toEqual([
      { row: 2, email: 'nope', reason: 'email is not a valid address' },
      { row: 3, email: 'A@X.example', reason: 'duplicate of an earlier recipient in this campaign' },
      { row: 4, email: 'b@x.example', reason: 'name contains control characters' },
    ]);
  });

  it('does not count a rejected row as seen', () => {
    const { accepted, rejected } = screenRecipients([
      { email: 'a@x.example', name: 'x'.repeat(201) },
      { email: 'a@x.example', name: 'ok' },
    ]);
    expect(rejected.map((r) => r.row)).toEqual([1]);
    expect(accepted).toEqual([{ email: 'a@x.example', name: 'ok', company: null }]);
  });
});

describe('parseRecipientsCsv', () => {
  it('reads a header in any order and case, with quotes, BOM and blank lines', () => {
    const csv =
      '\ufeffCompany,EMAIL,name\r\n"Contoso, Ltd",a@x.example,"Alex ""AJ"" Admin"\r\n\r\nFabrikam,b@x.example,\n';
    expect(parseRecipientsCsv(csv)).toEqual([
      { email: 'a@x.example', name: 'Alex "AJ" Admin', company: 'Contoso, Ltd' },
      { email: 'b@x.example', name: '', company: 'Fabrikam' },
    ]);
  });

  it('accepts an email-only file', () => {
    expect(parseRecipientsCsv('email\na@x.example\n')).toEqual([
      { email: 'a@x.example', name: undefined, company: undefined },
    ]);
  });

  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as AppError).code;
    }
    return 'no error';
  };

  it('rejects a header without email, with unknown or repeated columns', () => {
    expect(codeOf(() => parseRecipientsCsv('name,company\nA,B\n'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parseRecipientsCsv('email,phone\na@x.example,1\n'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parseRecipientsCsv('email,email\na@x.example,b@x.example\n'))).toBe('VALIDATION_FAILED');
  });

  it('reports text that is not CSV as MALFORMED_CSV', () => {
    expect(codeOf(() => parseRecipientsCsv('email,name\n"a@x.example,unterminated\n'))).toBe('MALFORMED_CSV');
    expect(codeOf(() => parseRecipientsCsv('email,name\na@x.example,A,extra\n'))).toBe('MALFORMED_CSV');
    expect(codeOf(() => parseRecipientsCsv(`email\n${'a'.repeat(20_000)}\n`))).toBe('MALFORMED_CSV');
  });

  it('stops at one row past the limit', () => {
    const rows = Array.from({ length: MAX_RECIPIENTS + 5 }, (_, i) => `r${i}@x.example`).join('\n');
    const error = (() => {
      try {
        parseRecipientsCsv(`email\n${rows}\n`);
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(error?.code).toBe('TOO_MANY_RECIPIENTS');
  });
});
