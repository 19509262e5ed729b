import { addDomain } from '../../services/operations/handlers.ts';
import { defineJob } from '../job.ts';
import { handleOperation, operationPayload } from './operation-job.ts';

/** Adds a domain to a client organization, pending verification. */
export const addDomainJob = defineJob({
  name: 'add-domain',
  queue: 'operations',
  payload: operationPayload,
  jobId: ({ operationId }) => `add-domain.${operationId}`,
  options: () => ({ attempts: 8, backoff: { type: 'exponential', delay: 2000 } }),
  handle: handleOperation(addDomain),
});
