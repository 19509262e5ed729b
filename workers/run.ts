import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { isAppError } from '../core/errors.ts';
import type { Deps } from '../lib/deps.ts';
import { createMailer, type Mailer } from '../lib/mailer.ts';
import { createRedis } from '../lib/redis.ts';
import { resumeUnfinishedWork } from '../services/resume.ts';
import type { WorkerDeps } from './job.ts';
import { type QueueName, queueNames, retention, workerSettings } from './queue-names.ts';
import { findJob } from './registry.ts';

export interface RunningWorkers {
  workers: Worker[];
  /** Stops taking jobs, lets running ones finish, closes connections and the SMTP pool. */
  close(): Promise<void>;
}

/** Runs one job: validates the payload, calls the handler, maps errors to retry or not. */
async function processJob(deps: WorkerDeps, job: Job): Promise<unknown> {
  const definition = findJob(job.name);
  if (!definition) throw new UnrecoverableError(`No handler for job ${job.name}`);
  const payload = definition.payload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`Invalid payload: ${payload.error.message}`);
  const logger = deps.logger.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
  const isFinalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  try {
    return await definition.handle(payload.data, { deps, job, logger, isFinalAttempt });
  } catch (error) {
    if (error instanceof UnrecoverableError) {
      logger.warn({ reason: error.message }, 'job failed for good');
      throw error;
    }
    if (isAppError(error) && !error.retryable) {
      logger.warn({ code: error.code, reason: error.message }, 'job failed for good');
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    logger.warn({ err: error }, isFinalAttempt ? 'job failed on its last attempt' : 'job failed; will retry');
    throw error;
  }
}

/**
 * Starts a BullMQ worker for each queue (all by default) in this process. Each worker
 * gets its own blocking Redis connection; all share one pooled SMTP transport.
 */
export async function startWorkers(
  deps: Deps,
  options: {
    queues?: readonly QueueName[];
    mailer?: Mailer;
    /** Re-enqueue unfinished work recorded in PostgreSQL (default true). */
    resume?: boolean;
  } = {},
): Promise<RunningWorkers> {
  const mailer = options.mailer ?? createMailer(deps.config);
  const workerDeps: WorkerDeps = { ...deps, mailer };
  const connection = createRedis(deps.config.redisUrl, { connectionName: 'mandate-worker' });
  connection.on('error', (error) => deps.logger.warn({ err: error }, 'worker connection error'));

  const workers = (options.queues ?? queueNames).map((queue) => {
    const worker = new Worker(queue, (job) => processJob(workerDeps, job), {
      connection,
      prefix: deps.config.queuePrefix,
      ...workerSettings(queue, deps.config),
      ...retention,
    });
    worker.on('error', (error) => deps.logger.error({ err: error, queue }, 'worker error'));
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  deps.logger.debug({ queues: options.queues ?? queueNames }, 'workers started');
  const queues = options.queues ?? queueNames;
  if (queues.includes('maintenance')) {
    // Idempotent: every worker process upserts the same scheduler.
    await deps.queues
      .queue('maintenance')
      .upsertJobScheduler(
        'lifecycle',
        { every: deps.config.lifecycleIntervalMs },
        { name: 'lifecycle-tick', data: {} },
      );
  }
  if (options.resume ?? true) {
    const resumed = await resumeUnfinishedWork(deps);
    if (resumed.campaigns + resumed.acceptances + resumed.emails + resumed.operations > 0)
      deps.logger.info(resumed, 'resumed unfinished work');
  }

  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      if (!options.mailer) mailer.close();
      connection.disconnect();
    },
  };
}
