/**
 * How many interrupted sends an email survives (docs/adr/0005). An interrupted send is one
 * that was claimed and never recorded an outcome: the worker died (or crashed on the
 * message) after the SMTP server may have taken it. The first is resent; once this many
 * have been counted, the email is not sent again — so a recipient gets at most this many
 * copies, even of a message that kills every worker that touches it.
 */
export const INTERRUPTED_SENDS_CAP = 2;

/** True when an email with this many interrupted sends must not be sent again. */
export function interruptedTooOften(uncertainSends: number): boolean {
  return uncertainSends >= INTERRUPTED_SENDS_CAP;
}
