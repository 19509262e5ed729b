import { z } from 'zod';
import { reconcile } from '../../services/maintenance/reconciler.ts';
import { defineJob } from '../job.ts';

/**
 * Re-enqueues unfinished work that the queue lost (RECONCILE_INTERVAL_MS, via a job
 * scheduler). Work younger than RECONCILE_MIN_AGE_SECONDS is left to the jobs in flight.
 */
export const reconcileJob = defineJob({
  name: 'reconcile',
  queue: 'maintenance',
  payload: z.object({}),
  jobId: () => 'reconcile',
  options: () => ({ attempts: 1 }),
  handle: (_payload, { deps }) => reconcile(deps, { minAgeSeconds: deps.config.reconcileMinAgeSeconds }),
});
