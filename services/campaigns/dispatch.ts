import type { Deps } from '../../lib/deps.ts';
import { chunkWaitingRecipients, pendingChunks } from './chunks.ts';

/**
 * Puts the campaign's recipients still waiting without a chunk into chunks (a campaign
 * created before chunks; `createCampaign` chunks at insert) and adds a `send-chunk` token
 * per chunk still to send. Safe to run again at any time: tokens' ids are their chunks',
 * and a chunk's recipients already sent are skipped by its claim.
 */
export async function dispatchCampaign(
  deps: Pick<Deps, 'db' | 'queues' | 'config'>,
  campaignId: string,
): Promise<number> {
  await deps.db.transaction((tx) => chunkWaitingRecipients(tx, deps.config, campaignId));
  const chunks = await pendingChunks(deps.db, campaignId);
  await deps.queues.enqueueBulk(
    'send-chunk',
    chunks.map((chunk) => ({ campaignId, chunk })),
  );
  return chunks.length;
}
