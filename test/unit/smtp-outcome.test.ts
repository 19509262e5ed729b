import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../core/smtp-outcome.ts';

describe('classifySmtpError', () => {
  it.each([
    [
      'mailbox unknown at RCPT TO',
      { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 5.1.1 No such user' },
      true,
    ],
    [
      'policy rejection at RCPT TO',
      { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 554, response: '554 Rejected' },
      true,
    ],
    [
      'message refused after DATA',
      { code: 'EMESSAGE', command: 'DATA', responseCode: 552, response: '552 Too big' },
      true,
    ],
    ['an address the client refuses', { code: 'EENVELOPE', command: 'API', message: 'Invalid recipient "x"' }, true],
    ['bad sequence', { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 503, response: '503 Bad sequence' }, false],
    [
      'throttling',
      { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 421, response: '421 Try again later' },
      false,
    ],
    ['greylisting', { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451, response: '451 Greylisted' }, false],
    [
      'sender refused (our configuration)',
      { code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 553, response: '553 Sender not allowed' },
      false,
    ],
    [
      'wrong SMTP credentials',
      { code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 Authentication failed' },
      false,
    ],
    [
      'a message the pool could not replay after a dropped connection',
      { code: 'ESTREAM', command: 'API', message: 'Content stream was already read' },
      false,
    ],
    ['connection refused', { code: 'ECONNECTION', message: 'connect ECONNREFUSED 10.0.0.5:25' }, false],
    ['timeout', { code: 'ETIMEDOUT', message: 'Timeout' }, false],
  ])('%s → permanent %s', (_label, error, permanent) => {
    expect(classifySmtpError(error).permanent).toBe(permanent);
  });

  it("keeps the server's reply about the recipient", () => {
    expect(classifySmtpError({ command: 'RCPT TO', responseCode: 550, response: '550 No such user ' }).reply).toBe(
      '550 No such user',
    );
    expect(classifySmtpError({ command: 'MAIL FROM', responseCode: 553, response: '553 No' }).reply).toBe(
      '553 No (during MAIL FROM)',
    );
  });

  it('does not pass on internal addresses from connection errors', () => {
    const { reply } = classifySmtpError({ code: 'ECONNECTION', message: 'connect ECONNREFUSED 10.0.0.5:25' });
    expect(reply).toBe('Could not talk to the mail server (ECONNECTION); will retry');
    expect(classifySmtpError('boom').reply).toContain('Could not talk to the mail server');
  });
});
