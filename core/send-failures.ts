/**
 * Why a campaign recipient's offer email failed for good, when a mail server refused the
 * recipient — as `delegations.failure_reason` records it. The reply that made the send
 * permanent was judged when it came (core/smtp-outcome.ts: a 5xx to the address or the
 * message, an address the client library refuses) or came later as a bounce report
 * (services/campaigns/bounces.ts); the reason keeps that judgement, the reply beside it
 * (`smtp_reply`) keeps the server's words. Sending the same email again fails the same way
 * until someone fixes the address, so a retry leaves these out unless asked.
 *
 * Every other failure may pass on another try: retries used up on temporary replies (a 4xx,
 * a 5xx to MAIL FROM — our relay's fault, not the recipient's), sends that kept stopping
 * their worker. The strings are stored: existing rows hold them, so they never change.
 */
export const permanentSendFailures = {
  refused: 'The mail server refused the message',
  bounced: 'A mail server refused the offer email after it had been sent (a bounce report)',
} as const;

export const permanentSendFailureReasons: string[] = Object.values(permanentSendFailures);

/** Whether a failed send's reason says a mail server refused this recipient for good. */
export function isPermanentSendFailure(reason: string | null | undefined): boolean {
  return reason != null && permanentSendFailureReasons.includes(reason);
}
