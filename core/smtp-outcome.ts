/** What a failed SMTP attempt means for the next one. */
export interface SmtpFailure {
  /** True when sending the same message to the same recipient again cannot succeed. */
  permanent: boolean;
  /**
   * What to record for the operator: the server's reply when it refused this recipient
   * or message; a generic description for faults on our side of the connection (these
   * can name internal hosts, which tenants should not see).
   */
  reply: string;
}

interface SmtpErrorLike {
  responseCode?: number | undefined;
  response?: string | undefined;
  code?: string | undefined;
  command?: string | undefined;
  message?: string | undefined;
}

/**
 * Classifies an error from the SMTP client. Only answers about this recipient or this
 * message are permanent: a 5xx (except 503) to RCPT TO, or to the message itself at the
 * end of DATA, and an address the client library refuses to use. A 5xx to MAIL FROM or
 * AUTH means the relay or our credentials are wrong — a platform fault that every
 * recipient would hit, so it is retried rather than failing whole campaigns. 4xx
 * replies and connection trouble are retried too.
 */
export function classifySmtpError(error: unknown): SmtpFailure {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as SmtpErrorLike;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const serverReply = (e.response ?? '').trim().slice(0, 1000);
  const fatal5xx = code !== undefined && code >= 500 && code < 600 && code !== 503;

  if (e.command === 'API' && e.code === 'EENVELOPE') {
    return { permanent: true, reply: `Address not usable: ${(e.message ?? '').slice(0, 200)}` };
  }
  if (fatal5xx && e.command === 'RCPT TO') return { permanent: true, reply: serverReply };
  if (fatal5xx && e.command === 'DATA' && e.code === 'EMESSAGE') return { permanent: true, reply: serverReply };
  if (code !== undefined && serverReply) {
    const during = e.command ? ` (during ${e.command})` : '';
    return { permanent: false, reply: `${serverReply}${during}` };
  }
  return { permanent: false, reply: `Could not talk to the mail server (${e.code ?? 'error'}); will retry` };
}

/** A send that failed for a reason worth another attempt (SMTP 4xx, connection trouble). */
export class RetryableSendError extends Error {
  override name = 'RetryableSendError';
}

/**
 * Whether an error came from the SMTP exchange (nodemailer marks those with a code such
 * as ECONNECTION or EENVELOPE, or a server reply) rather than from our own code.
 */
export function isSmtpError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SmtpErrorLike;
  return typeof e.responseCode === 'number' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code));
}

/**
 * Whether a failed send may still have delivered its message: the end of its data went to
 * the server and no reply came back (the connection dropped after DATA, a timeout). A
 * reply — even a refusal — is an answer; silence after the end of data is doubt, and
 * counts as an interrupted send (docs/adr/0005).
 */
export function deliveryInDoubt(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SmtpErrorLike & { endOfDataSent?: boolean };
  return e.endOfDataSent === true && typeof e.responseCode !== 'number';
}
