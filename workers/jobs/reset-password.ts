import { resetPassword } from '../../services/operations/handlers.ts';
import { defineJob } from '../job.ts';
import { handleOperation, operationPayload } from './operation-job.ts';

/** Sets a temporary password for a client user, ends their sessions, emails the staff member. */
export const resetPasswordJob = defineJob({
  name: 'reset-password',
  queue: 'operations',
  payload: operationPayload,
  jobId: ({ operationId }) => `reset-password.${operationId}`,
  options: () => ({ attempts: 8, backoff: { type: 'exponential', delay: 2000 } }),
  handle: handleOperation(resetPassword),
});
