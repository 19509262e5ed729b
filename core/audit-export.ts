import { errorCodes } from './errors.ts';
import { csvCell } from './recipient-export.ts';

/** A recorded reason in words: an error code's title, a code_like_this spaced out, a message as written. */
export function reasonInWords(reason: string): string {
  if (Object.hasOwn(errorCodes, reason)) return errorCodes[reason as keyof typeof errorCodes].title;
  return /^[a-z]+(_[a-z]+)+$/.test(reason) ? reason.replaceAll('_', ' ') : reason;
}

/** What a row of an audit export holds (services/audit/trail.ts's entries have these fields). */
export interface ExportedAuditEntry {
  at: Date;
  actor: string;
  partnerName: string | null;
  orgName: string;
  label: string;
  about: string | null;
  outcomeLabel: string;
  reason: string | null;
  changes: string[];
  action: string;
  outcome: string;
  requestId: string | null;
}

/** The header of every audit export: the page's columns in its words, then the codes. */
export const auditExportHeader =
  'when_utc,who,partner,organization,what,about,outcome,reason,changes,action,outcome_code,request_id\r\n';

/** One audit entry as a CSV line (cells formula-safe, as in every export). */
export function auditExportLine(e: ExportedAuditEntry): string {
  return `${[
    e.at.toISOString(),
    e.actor,
    e.partnerName,
    e.orgName,
    e.label,
    e.about,
    e.outcomeLabel,
    e.reason,
    e.changes.join('; '),
    e.action,
    e.outcome,
    e.requestId,
  ]
    .map(csvCell)
    .join(',')}\r\n`;
}
