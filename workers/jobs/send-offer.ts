import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { sendOffer } from '../../services/campaigns/send-offer.ts';
import { defineJob } from '../job.ts';

/** Sends one recipient's offer email. One job per delegation. */
export const sendOfferJob = defineJob({
  name: 'send-offer',
  queue: 'mail',
  payload: z.object({ delegationId: z.string().min(1) }),
  jobId: ({ delegationId }) => `send-offer.${delegationId}`,
  // SMTP 4xx and connection trouble retry with exponential backoff (MAIL_BACKOFF_MS,
  // doubling) up to MAIL_ATTEMPTS; the handler records the final failure itself.
  options: (config) => ({
    attempts: config.mailAttempts,
    backoff: { type: 'exponential', delay: config.mailBackoffMs },
  }),
  async handle({ delegationId }, { deps, logger, isFinalAttempt }) {
    const result = await sendOffer({ ...deps, logger }, delegationId, { isFinalAttempt });
    if (result.outcome === 'failed') {
      // The row says why; no retry can change a permanent answer.
      throw new UnrecoverableError(`${result.reason}${result.reply ? `: ${result.reply}` : ''}`);
    }
    return result;
  },
});
