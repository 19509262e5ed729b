import { z } from 'zod';
import { runLifecycle } from '../../services/maintenance/lifecycle.ts';
import { defineJob } from '../job.ts';

/**
 * The lifecycle sweep (auto-extend, expiry, unanswered offers, expiry notices). Run by a
 * BullMQ job scheduler every LIFECYCLE_INTERVAL_MS; any number of workers may pick it up.
 */
export const lifecycleTickJob = defineJob({
  name: 'lifecycle-tick',
  queue: 'maintenance',
  payload: z.object({}),
  jobId: () => 'lifecycle-tick',
  options: () => ({ attempts: 1 }),
  handle: (_payload, { deps }) => runLifecycle(deps),
});
