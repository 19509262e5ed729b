import { z } from 'zod';
import { processAcceptance } from '../../services/offers/acceptance.ts';
import { defineJob } from '../job.ts';

/** Grants an accepted delegation (accepting → active, or failed with a reason). */
export const processAcceptanceJob = defineJob({
  name: 'process-acceptance',
  queue: 'delegations',
  payload: z.object({ delegationId: z.string().min(1) }),
  jobId: ({ delegationId }) => `process-acceptance.${delegationId}`,
  options: () => ({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } }),
  handle: ({ delegationId }, { deps }) => processAcceptance(deps, delegationId),
});
