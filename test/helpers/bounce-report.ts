import nodemailer from 'nodemailer';

export interface BounceReportInput {
  /** The return path the report goes to (the bounced message's envelope sender). */
  to: string;
  /** The recipient the bounced message was for. */
  recipient: string;
  /** Enhanced status code: 5.x.x permanent, 4.x.x a delay. */
  status: string;
  diagnostic?: string;
  /** The report's own Message-ID; a relay sending it again keeps it. */
  messageId?: string;
  reportingMta?: string;
  /** Final-Recipient when it is not `recipient` (an alias's or a forward's target). */
  finalRecipient?: string;
  /** Default: failed for 5.x.x, delayed otherwise. */
  action?: string;
}

/**
 * A delivery status notification as Postfix's bounce(8) writes it (RFC 3464): a
 * multipart/report with the human-readable part, the message/delivery-status part and the
 * returned headers. CRLF line ends, ready for DATA.
 */
export function bounceReport(input: BounceReportInput): string {
  const boundary = 'report-boundary-7d1c';
  const permanent = input.status.startsWith('5.');
  const mta = input.reportingMta ?? 'relay.partner.test';
  return [
    `From: MAILER-DAEMON@${mta} (Mail Delivery System)`,
    `To: ${input.to}`,
    `Subject: ${permanent ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'}`,
    `Message-ID: ${input.messageId ?? `<${Math.random().toString(36).slice(2)}@${mta}>`}`,
    'Date: Thu, 3 Dec 2026 09:41:07 +0000',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is the mail system at host ${mta}.`,
    '',
    permanent ? "I'm sorry to have to inform you that your message could not" : 'Your message is delayed.',
    'be delivered to one or more recipients.',
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${mta}`,
    'Arrival-Date: Thu,  3 Dec 2026 09:41:05 +0000 (UTC)',
    '',
    `Final-Recipient: rfc822; ${input.finalRecipient ?? input.recipient}`,
    ...(input.finalRecipient ? [] : [`Original-Recipient: rfc822;${input.recipient}`]),
    `Action: ${input.action ?? (permanent ? 'failed' : 'delayed')}`,
    `Status: ${input.status}`,
    'Remote-MTA: dns; mx.client.test',
    `Diagnostic-Code: smtp; ${input.diagnostic ?? `550 ${input.status} <${input.recipient}>: Recipient address`}`,
    ...(input.diagnostic ? [] : ['    rejected: User unknown in virtual mailbox table']),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    `To: ${input.recipient}`,
    'Subject: An offer',
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/**
 * Delivers `raw` to an SMTP server on loopback as a mail server sends a bounce: a null
 * sender (`MAIL FROM:<>`) and one recipient. Resolves with the reply, rejects with the refusal.
 */
export async function deliverBounce(port: number, to: string, raw: string): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ envelope: { from: '', to: [to] }, raw });
    return String(info.response);
  } finally {
    transport.close();
  }
}
