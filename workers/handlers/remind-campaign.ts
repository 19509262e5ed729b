import { recordReminderEmails } from '../../services/campaigns/reminders.ts';
import type { JobHandler } from '../job.ts';

/** Writes one campaign reminder's emails to the outbox (each recipient once) and enqueues them. */
export const handleRemindCampaign: JobHandler<'remind-campaign'> = async (
  { campaignId, number },
  { deps, logger },
) => ({
  written: await recordReminderEmails({ ...deps, logger }, campaignId, number),
});
