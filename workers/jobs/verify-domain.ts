import { verifyDomain } from '../../services/operations/handlers.ts';
import { defineJob } from '../job.ts';
import { handleOperation, operationPayload } from './operation-job.ts';

/**
 * Looks up the verification TXT record. DNS changes take minutes to hours to be seen,
 * so a miss is retried with the `dns` backoff (DOMAIN_VERIFY_RETRY_MS, doubling, at most
 * 30 minutes apart) until the record appears or DOMAIN_VERIFY_DEADLINE_SECONDS pass — the
 * handler enforces the deadline; the attempt count only has to be large enough.
 */
export const verifyDomainJob = defineJob({
  name: 'verify-domain',
  queue: 'operations',
  payload: operationPayload,
  jobId: ({ operationId }) => `verify-domain.${operationId}`,
  options: () => ({ attempts: 100_000, backoff: { type: 'dns' } }),
  handle: handleOperation(verifyDomain),
});
