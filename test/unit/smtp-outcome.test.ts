import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../core/smtp-outcome.ts';

describe('classifySmtpError', () => {
  it.each([
    [{ responseCode: 550, response: '550 5.1.1 No such user' }, true],
    [{ responseCode: 554, response: '554 Rejected' }, true],
    [{ responseCode: 503, response: '503 Bad sequence' }, false],
    [{ responseCode: 421, response: '421 Try again later' }, false],
    [{ responseCode: 451, response: '451 Greylisted' }, false],
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:25' }, false],
    [{ code: 'ETIMEDOUT', message: 'Timeout' }, false],
  ])('%j → permanent %s', (error, permanent) => {
    expect(classifySmtpError(error).permanent).toBe(permanent);
  });

  it('keeps the server reply, or the error code for failures without one', () => {
    expect(classifySmtpError({ responseCode: 550, response: '550 No such user ' }).reply).toBe('550 No such user');
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'refused' }).reply).toBe('ECONNECTION: refused');
    expect(classifySmtpError('boom').reply).toBe('boom');
  });
});
