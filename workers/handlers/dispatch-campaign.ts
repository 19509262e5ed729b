import { dispatchCampaign } from '../../services/campaigns/dispatch.ts';
import type { JobHandler } from '../job.ts';

/** Fans a campaign out into one send-offer job per recipient still waiting. */
export const handleDispatchCampaign: JobHandler<'dispatch-campaign'> = async ({ campaignId }, { deps }) => ({
  enqueued: await dispatchCampaign(deps, campaignId),
});
