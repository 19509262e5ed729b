import type { DelegationState } from '../../../core/delegation-machine.ts';
import { recipientExportHeader, recipientExportLine } from '../../../core/recipient-export.ts';
import type { Db } from '../../../db/client.ts';
import { pagedCsv } from '../../../lib/paged-csv.ts';
import { listCampaignRecipients } from '../../../services/campaigns/campaigns.ts';
import type { PartnerPrincipal } from '../../../services/shared/principals.ts';

/** A campaign's recipients as CSV, streamed a page at a time (a campaign may hold 100,000). */
export function recipientsCsv(
  db: Db,
  principal: PartnerPrincipal,
  campaignId: string,
  state: DelegationState | undefined,
): ReadableStream<Uint8Array> {
  return pagedCsv(
    recipientExportHeader,
    (cursor) => listCampaignRecipients(db, principal, campaignId, { state, cursor, limit: 1000 }),
    recipientExportLine,
  );
}
