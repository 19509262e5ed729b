import { provisionUser } from '../../services/operations/handlers.ts';
import { defineJob } from '../job.ts';
import { handleOperation, operationPayload } from './operation-job.ts';

/** Creates a user in a client organization and emails its temporary password. */
export const provisionUserJob = defineJob({
  name: 'provision-user',
  queue: 'operations',
  payload: operationPayload,
  jobId: ({ operationId }) => `provision-user.${operationId}`,
  options: () => ({ attempts: 8, backoff: { type: 'exponential', delay: 2000 } }),
  handle: handleOperation(provisionUser),
});
