/** What a failed SMTP attempt means for the next one. */
export interface SmtpFailure {
  /** True when sending the same message again cannot succeed (5xx, except 503). */
  permanent: boolean;
  /** What the server said, or what went wrong on the way, for the operator. */
  reply: string;
}

interface SmtpErrorLike {
  responseCode?: number | undefined;
  response?: string | undefined;
  code?: string | undefined;
  message?: string | undefined;
}

/**
 * Classifies an error from the SMTP client. A 5xx reply is permanent (mailbox unknown,
 * policy rejection) except 503 "bad sequence", which says more about the session than
 * the message. 4xx replies (greylisting, throttling) and errors without a reply
 * (connection refused or dropped, timeouts) are worth retrying.
 */
export function classifySmtpError(error: unknown): SmtpFailure {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as SmtpErrorLike;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply = (e.response ?? e.message ?? 'unknown error').trim().slice(0, 1000);
  if (code !== undefined && code >= 500 && code < 600 && code !== 503) return { permanent: true, reply };
  return { permanent: false, reply: code === undefined && e.code ? `${e.code}: ${reply}` : reply };
}

/** A send that failed for a reason worth another attempt (SMTP 4xx, connection trouble). */
export class RetryableSendError extends Error {
  override name = 'RetryableSendError';
}
