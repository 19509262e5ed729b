import type { Job, JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { Config } from '../lib/config.ts';
import type { Deps } from '../lib/deps.ts';
import type { Logger } from '../lib/logger.ts';
import type { Mailer } from '../lib/mailer.ts';
import type { QueueName } from '../lib/queues/names.ts';

/** What a worker process has: the app's dependencies plus an SMTP transport. */
export interface WorkerDeps extends Deps {
  mailer: Mailer;
}

export interface JobContext {
  deps: WorkerDeps;
  job: Job;
  /** Carries the job's id and name on every line. */
  logger: Logger;
  /** True when a retryable failure of this attempt would be the last one. */
  isFinalAttempt: boolean;
}

/**
 * One kind of background job: its name, the queue it runs on, the schema of its
 * payload, a deterministic job id (so enqueueing the same work twice is a no-op while
 * the first is still known to the queue), its options and its handler.
 */
export interface JobDefinition<N extends string = string, S extends z.ZodType = z.ZodType, R = unknown> {
  name: N;
  queue: QueueName;
  payload: S;
  /** Must not contain `:` nor be all digits (BullMQ's rules for custom ids). */
  jobId: (payload: z.output<S>) => string;
  options?: (config: Config) => JobsOptions;
  handle: (payload: z.output<S>, ctx: JobContext) => Promise<R>;
}

export function defineJob<const N extends string, S extends z.ZodType, R>(
  definition: JobDefinition<N, S, R>,
): JobDefinition<N, S, R> {
  return definition;
}
