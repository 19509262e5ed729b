import { UnrecoverableError } from 'bullmq';
import { sendOffer } from '../../services/campaigns/send-offer.ts';
import type { JobHandler } from '../job.ts';

/** Sends one recipient's offer email; the handler records the final failure itself. */
export const handleSendOffer: JobHandler<'send-offer'> = async ({ delegationId }, { deps, logger, isFinalAttempt }) => {
  const result = await sendOffer({ ...deps, logger }, delegationId, { isFinalAttempt });
  if (result.outcome === 'failed') {
    // The row says why; no retry can change a permanent answer.
    throw new UnrecoverableError(`${result.reason}${result.reply ? `: ${result.reply}` : ''}`);
  }
  return result;
};
