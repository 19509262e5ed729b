import { runLifecycle } from '../../services/maintenance/lifecycle.ts';
import { reconcile } from '../../services/maintenance/reconciler.ts';
import type { JobHandler } from '../job.ts';

/** The lifecycle sweep: auto-extend, expiry, unanswered offers, expiry notices. */
export const handleLifecycleTick: JobHandler<'lifecycle-tick'> = (_payload, { deps }) => runLifecycle(deps);

/** Re-enqueues unfinished work the queue lost, older than RECONCILE_MIN_AGE_SECONDS. */
export const handleReconcile: JobHandler<'reconcile'> = (_payload, { deps }) =>
  reconcile(deps, { minAgeSeconds: deps.config.reconcileMinAgeSeconds });
