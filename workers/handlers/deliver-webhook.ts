import { deliverWebhook } from '../../services/webhooks/deliver.ts';
import type { JobHandler } from '../job.ts';

/** Makes one try of a webhook delivery; a failed try waits its turn (WebhookWaits). */
export const handleDeliverWebhook: JobHandler<'deliver-webhook'> = async ({ deliveryId }, { deps, logger }) =>
  deliverWebhook(deps, deliveryId, logger);
