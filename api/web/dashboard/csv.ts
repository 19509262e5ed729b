import type { DelegationState } from '../../../core/delegation-machine.ts';
import type { Db } from '../../../db/client.ts';
import type { PartnerPrincipal } from '../../../services/auth.ts';
import { listCampaignRecipients } from '../../../services/campaigns.ts';

const columns = [
  'email',
  'name',
  'company',
  'state',
  'attempts',
  'smtp_reply',
  'failure_reason',
  'offered_at',
  'delegation_id',
];

/**
 * One CSV cell: quoted when it must be, and a leading = + - @ (or tab/CR) neutralised with
 * a quote mark so a spreadsheet never runs a recipient's name as a formula.
 */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A campaign's recipients as CSV, streamed a page at a time (a campaign may hold 100,000). */
export function recipientsCsv(
  db: Db,
  principal: PartnerPrincipal,
  campaignId: string,
  state: DelegationState | undefined,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`${columns.join(',')}\r\n`));
        return;
      }
      const page = await listCampaignRecipients(db, principal, campaignId, { state, cursor, limit: 1000 });
      const lines = page.items.map(
        (r) =>
          `${[r.email, r.name, r.company, r.state, r.sendAttempts, r.smtpReply, r.failureReason, r.offeredAt, r.delegationId].map(csvCell).join(',')}\r\n`,
      );
      if (lines.length > 0) controller.enqueue(encoder.encode(lines.join('')));
      if (!page.nextCursor) controller.close();
      else cursor = page.nextCursor;
    },
  });
}
