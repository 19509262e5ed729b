import { z } from 'zod';
import { dispatchCampaign } from '../../services/campaigns/dispatch.ts';
import { defineJob } from '../job.ts';

/**
 * Fans a campaign out into one send-offer job per recipient. Doing this in a job keeps
 * `POST /v1/campaigns` fast for 100,000 recipients, and a crash half-way is repaired by
 * the retry (the jobs already added are not added twice).
 */
export const dispatchCampaignJob = defineJob({
  name: 'dispatch-campaign',
  queue: 'campaigns',
  payload: z.object({ campaignId: z.string().min(1) }),
  jobId: ({ campaignId }) => `dispatch-campaign.${campaignId}`,
  options: () => ({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } }),
  async handle({ campaignId }, { deps }) {
    return { enqueued: await dispatchCampaign(deps, campaignId) };
  },
});
