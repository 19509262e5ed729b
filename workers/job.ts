import type { Job } from 'bullmq';
import type { WorkerDeps } from '../lib/deps.ts';
import type { Logger } from '../lib/logger.ts';
import type { JobData, JobName } from '../lib/queues/contracts.ts';

export interface JobContext {
  deps: WorkerDeps;
  job: Job;
  /** Carries the job's id and name on every line. */
  logger: Logger;
  /** True when a retryable failure of this attempt would be the last one. */
  isFinalAttempt: boolean;
}

/**
 * What a worker does with one job of kind `N`: its payload has already passed the
 * contract's schema (lib/queues/contracts.ts). Throw UnrecoverableError (or a
 * non-retryable AppError) for what no retry can change; any other error is retried.
 */
export type JobHandler<N extends JobName> = (payload: JobData<N>, ctx: JobContext) => Promise<unknown>;
