import { dispatchCampaign } from '../../services/campaigns/dispatch.ts';
import type { JobHandler } from '../job.ts';

/** Puts a campaign's waiting recipients in chunks and adds the tokens of its chunks still to send. */
export const handleDispatchCampaign: JobHandler<'dispatch-campaign'> = async ({ campaignId }, { deps }) => ({
  enqueued: await dispatchCampaign(deps, campaignId),
});
