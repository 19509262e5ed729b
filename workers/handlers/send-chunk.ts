import { sendNextChunk } from '../../services/campaigns/send-chunk.ts';
import type { JobHandler } from '../job.ts';

/**
 * Sends the next chunk of campaign offers — whichever campaign's turn it is, not
 * necessarily the chunk the token was added for (services/campaigns/send-chunk.ts).
 */
export const handleSendChunk: JobHandler<'send-chunk'> = async (_payload, { deps, logger }) =>
  (await sendNextChunk({ ...deps, logger })) ?? { nothingLeft: true };
