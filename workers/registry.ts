import type { JobName } from '../lib/queues/contracts.ts';
import { handleDeliverWebhook } from './handlers/deliver-webhook.ts';
import { handleDispatchCampaign } from './handlers/dispatch-campaign.ts';
import { handleLifecycleTick, handleReconcile } from './handlers/maintenance.ts';
import { operationJobHandlers } from './handlers/operation.ts';
import { handleProcessAcceptance } from './handlers/process-acceptance.ts';
import { handleRemindCampaign } from './handlers/remind-campaign.ts';
import { handleSendChunk } from './handlers/send-chunk.ts';
import { handleSendEmail } from './handlers/send-email.ts';
import { handleSendOffer } from './handlers/send-offer.ts';
import type { JobHandler } from './job.ts';

/**
 * The handler of every job contract (lib/queues/contracts.ts). Its type requires one per
 * contract: a contract without a handler does not compile.
 */
export const jobHandlers: { [N in JobName]: JobHandler<N> } = {
  'send-offer': handleSendOffer,
  'send-chunk': handleSendChunk,
  'dispatch-campaign': handleDispatchCampaign,
  'remind-campaign': handleRemindCampaign,
  'send-email': handleSendEmail,
  'deliver-webhook': handleDeliverWebhook,
  'process-acceptance': handleProcessAcceptance,
  'lifecycle-tick': handleLifecycleTick,
  reconcile: handleReconcile,
  ...operationJobHandlers,
};

export function findJobHandler(name: string): JobHandler<JobName> | undefined {
  return Object.hasOwn(jobHandlers, name) ? (jobHandlers[name as JobName] as JobHandler<JobName>) : undefined;
}
