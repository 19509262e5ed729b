import { type Job, UnrecoverableError, type Worker } from 'bullmq';
import { AppError, isAppError } from '../core/errors.ts';
import { createDb, createSql } from '../db/client.ts';
import { databaseTimeoutKind } from '../db/errors.ts';
import type { Deps, WorkerDeps } from '../lib/deps.ts';
import { createMailer, type Mailer } from '../lib/mailer.ts';
import { observeJobRun } from '../lib/metrics.ts';
import { findJobContract, scheduledJobs } from '../lib/queues/contracts.ts';
import { type QueueName, queueNames, retention, workerSettings } from '../lib/queues/names.ts';
import { createQueueTransport } from '../lib/queues/transport.ts';
import { assertNoEviction } from '../lib/redis-checks.ts';
import { registerWorkerProcess } from '../lib/worker-process.ts';
import { ChunkWaits } from '../services/campaigns/send-chunk.ts';
import { reconcile } from '../services/maintenance/reconciler.ts';
import { OperationWaits } from '../services/operations/runner.ts';
import { WebhookWaits } from '../services/webhooks/deliver.ts';
import { startWebhookDispatcher, type WebhookDispatcher } from '../services/webhooks/dispatch.ts';
import { type BounceListener, startBounceListener } from './bounce-listener.ts';
import { findJobHandler } from './registry.ts';

export interface RunningWorkers {
  workers: Worker[];
  /** The bounce listener this process runs (BOUNCE_SMTP_PORT set), if any. */
  bounceListener: BounceListener | undefined;
  /**
   * Stops taking jobs, lets running ones finish within `graceMs` (SHUTDOWN_GRACE_MS,
   * default 30 s), then closes connections and the SMTP pool.
   */
  close(graceMs?: number): Promise<void>;
}

/** Runs one job: validates the payload, calls the handler, maps errors to retry or not. */
async function processJob(deps: WorkerDeps, job: Job): Promise<unknown> {
  const contract = findJobContract(job.name);
  const handle = findJobHandler(job.name);
  if (!contract || !handle) throw new UnrecoverableError(`No handler for job ${job.name}`);
  const payload = contract.payload.safeParse(job.data);
  if (!payload.success) throw new UnrecoverableError(`Invalid payload: ${payload.error.message}`);
  const logger = deps.logger.child({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 });
  const isFinalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  try {
    return await handle(payload.data as never, { deps, job, logger, isFinalAttempt });
  } catch (error) {
    if (error instanceof ChunkWaits) {
      // A chunk token waiting its turn: routine, not a failure.
      logger.debug({ reason: error.message, retryAfterMs: error.retryAfterMs }, 'chunk token waits');
      throw error;
    }
    if (error instanceof WebhookWaits) {
      // A receiver that failed this try, or a try not due yet: its schedule says when.
      logger.info({ reason: error.message, retryAfterMs: error.retryAfterMs }, 'webhook delivery waits');
      throw error;
    }
    if (error instanceof OperationWaits) {
      // Expected (a TXT record not published yet): checked again after the backoff.
      logger.info({ reason: error.message }, 'operation waits; will check again');
      throw error;
    }
    if (error instanceof UnrecoverableError) {
      logger.warn({ reason: error.message }, 'job failed for good');
      throw error;
    }
    if (isAppError(error) && !error.retryable) {
      logger.warn({ code: error.code, reason: error.message }, 'job failed for good');
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    const timeout = databaseTimeoutKind(error);
    if (timeout) {
      // A stuck lock or query (DATABASE_WORKER_*_TIMEOUT_MS): retried like any passing fault,
      // under a code that says what happened.
      logger.warn(
        { err: error, code: 'DATABASE_TIMEOUT', timeout },
        `job stopped by the database's ${timeout} timeout${isFinalAttempt ? ' on its last attempt' : '; will retry'}`,
      );
      // The code leads, as in an UnrecoverableError's reason; not drizzle's message, which
      // carries the query's parameters into the job board.
      const setting = timeout === 'lock' ? 'DATABASE_WORKER_LOCK_TIMEOUT_MS' : 'DATABASE_WORKER_STATEMENT_TIMEOUT_MS';
      const reason = `DATABASE_TIMEOUT: a query was stopped by the ${timeout} timeout (${setting})`;
      throw new AppError('DATABASE_TIMEOUT', reason, { cause: error });
    }
    logger.warn({ err: error }, isFinalAttempt ? 'job failed on its last attempt' : 'job failed; will retry');
    throw error;
  }
}

/** {@link processJob}, timed and counted (mandate_job_duration_seconds, mandate_jobs_*_total). */
async function processAndObserveJob(deps: WorkerDeps, queue: QueueName, job: Job): Promise<unknown> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const result = await processJob(deps, job);
    observeJobRun(queue, job.name, 'completed', seconds());
    return result;
  } catch (error) {
    if (error instanceof ChunkWaits || error instanceof WebhookWaits) {
      observeJobRun(queue, job.name, 'waited', seconds());
      throw error;
    }
    // What BullMQ will do next: no retry after an UnrecoverableError or the last attempt.
    const final = error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    observeJobRun(queue, job.name, final ? 'final' : 'retry', seconds());
    throw error;
  }
}

/**
 * Starts a BullMQ worker for each queue (all by default) in this process. Each worker
 * shares this process's worker connection to the queues (Redis or PostgreSQL); all share
 * one pooled SMTP transport.
 */
export async function startWorkers(
  deps: Deps,
  options: {
    queues?: readonly QueueName[];
    mailer?: Mailer;
    /** Re-enqueue unfinished work recorded in PostgreSQL (default true). */
    resume?: boolean;
    /** Run the bounce listener (default: when BOUNCE_SMTP_PORT is set). */
    bounces?: boolean;
  } = {},
): Promise<RunningWorkers> {
  if (deps.redis && (await assertNoEviction(deps.redis)) === 'unknown') {
    deps.logger.warn('could not read Redis maxmemory-policy (CONFIG not allowed); make sure it is noeviction');
  }
  const mailer = options.mailer ?? createMailer(deps.config);
  // The workers' own pool, with their timeouts (DATABASE_WORKER_*): longer than a
  // request's, and apart from the API's pool when both run in one process (`npm start`).
  const sql = createSql(deps.config.databaseUrl, {
    max: deps.config.databasePoolSize,
    timeouts: deps.config.databaseTimeouts.workers,
    connectTimeoutMs: deps.config.databaseConnectTimeoutMs,
    applicationName: 'mandate-workers',
  });
  const db = createDb(sql);
  // Named before any job runs: the leases this process takes name it, and end when it
  // stops beating (docs/adr/0027).
  const self = await registerWorkerProcess(db, { staleSeconds: deps.config.processStaleSeconds, logger: deps.logger });
  const workerDeps: WorkerDeps = { ...deps, sql, db, mailer, processId: self.id };
  const transport = createQueueTransport(deps.config, deps.logger, { role: 'worker' });

  const workers = (options.queues ?? queueNames).map((queue) => {
    const worker = transport.createWorker(queue, (job) => processAndObserveJob(workerDeps, queue, job), {
      ...workerSettings(queue, deps.config),
      ...retention,
    });
    worker.on('error', (error) => deps.logger.error({ err: error, queue }, 'worker error'));
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  deps.logger.debug({ queues: options.queues ?? queueNames }, 'workers started');
  const queues = options.queues ?? queueNames;
  // The schedulers live in Redis: re-assert them now and every reconcile interval, so a
  // flushed or restarted Redis gets them back without restarting workers. Idempotent:
  // every worker process upserts the same ones.
  const schedules = scheduledJobs(deps.config).filter((s) => queues.includes(s.queue));
  const upsertSchedulers = async () => {
    for (const { id, name, queue, every } of schedules) {
      await deps.queues.queue(queue).upsertJobScheduler(id, { every }, { name, data: {} });
    }
  };
  let keepSchedulers: NodeJS.Timeout | undefined;
  if (schedules.length > 0) {
    await upsertSchedulers();
    keepSchedulers = setInterval(() => {
      upsertSchedulers().catch((error: unknown) =>
        deps.logger.warn({ err: error }, 'could not re-assert the job schedulers'),
      );
    }, deps.config.reconcileIntervalMs);
    keepSchedulers.unref();
  }
  if (options.resume ?? true) {
    // On start, everything unfinished is fair game: no job of this process is in flight.
    // A queue that does not answer in time is no reason not to start — exiting would only
    // make a supervisor restart into the same resume: the periodic reconciler enqueues
    // what this pass could not.
    await reconcile(workerDeps, { minAgeSeconds: 0 }).catch((error: unknown) => {
      deps.logger.warn({ err: error }, 'could not resume unfinished work at start; the reconciler will');
    });
  }
  // In the worker process, beside the jobs: it writes what a job would, with the workers'
  // pool and timeouts, and stops with them (docs/adr/0024). Its port taken (another worker
  // process on this machine has it) is no reason to stop the jobs, already running: the
  // process carries on without a listener, logged as an error — the reports wait with their
  // senders until a listener runs.
  const bounceListener =
    (options.bounces ?? deps.config.bounceSmtpPort !== undefined)
      ? await startBounceListener({ ...workerDeps, logger: deps.logger }).catch((error: unknown) => {
          deps.logger.error(
            { err: error, port: deps.config.bounceSmtpPort },
            'bounce listener could not start; running the jobs without it',
          );
          return undefined;
        })
      : undefined;

  // New webhook deliveries go to the queue as their commit notifies; only where they are delivered.
  const dispatcher: WebhookDispatcher | undefined = queues.includes('webhooks')
    ? await startWebhookDispatcher(workerDeps)
    : undefined;

  return {
    workers,
    bounceListener,
    async close(graceMs = deps.config.shutdownGraceMs) {
      clearInterval(keepSchedulers);
      await dispatcher?.close();
      // First, so no report is taken that the closing pool could not record.
      await bounceListener?.close();
      // Stop taking jobs and let the running ones finish; past the grace period, stop
      // waiting — their locks lapse and another worker runs them again (they are
      // idempotent, and their rows' leases keep two runs from overlapping).
      const graceful = Promise.all(workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), graceMs);
      });
      const outcome = await Promise.race([graceful.then(() => 'done' as const), expired]);
      clearTimeout(timer);
      if (outcome === 'expired') {
        deps.logger.warn({ graceMs }, 'jobs still running after the grace period; closing anyway');
        await Promise.all(workers.map((w) => w.close(true)));
      }
      if (!options.mailer) mailer.close();
      // After the jobs: what this process still holds is free for others at once.
      await self.stop();
      await transport.close();
      await sql.end({ timeout: 5 });
    },
  };
}
