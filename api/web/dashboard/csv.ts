import type { DelegationState } from '../../../core/delegation-machine.ts';
import { recipientExportHeader, recipientExportLine } from '../../../core/recipient-export.ts';
import type { Db } from '../../../db/client.ts';
import { listCampaignRecipients } from '../../../services/campaigns/campaigns.ts';
import type { PartnerPrincipal } from '../../../services/shared/principals.ts';

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
        controller.enqueue(encoder.encode(recipientExportHeader));
        return;
      }
      const page = await listCampaignRecipients(db, principal, campaignId, { state, cursor, limit: 1000 });
      const lines = page.items.map(recipientExportLine);
      if (lines.length > 0) controller.enqueue(encoder.encode(lines.join('')));
      if (!page.nextCursor) controller.close();
      else cursor = page.nextCursor;
    },
  });
}
