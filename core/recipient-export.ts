import type { DelegationState } from './delegation-machine.ts';

/** What a row of a recipients export holds (the API's recipient view has these fields). */
export interface ExportedRecipient {
  email: string;
  name: string | null;
  company: string | null;
  state: DelegationState;
  sendAttempts: number;
  smtpReply: string | null;
  failureReason: string | null;
  offeredAt: string | null;
  delegationId: string;
}

/** The header line of every recipients file Mandate writes (dashboard export, CLI). */
export const recipientExportHeader =
  'email,name,company,state,attempts,smtp_reply,failure_reason,offered_at,delegation_id\r\n';

/**
 * One CSV cell: quoted when it must be, and a leading = + - @ (or tab/CR) neutralised with
 * a quote mark so a spreadsheet never runs a recipient's name as a formula.
 */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  // Quoted also with a `;`: a spreadsheet that splits on semicolons would start a cell there.
  return /[",;\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One recipient as a CSV line. */
export function recipientExportLine(r: ExportedRecipient): string {
  return `${[r.email, r.name, r.company, r.state, r.sendAttempts, r.smtpReply, r.failureReason, r.offeredAt, r.delegationId].map(csvCell).join(',')}\r\n`;
}
