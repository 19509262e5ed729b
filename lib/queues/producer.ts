import type { Queue } from 'bullmq';
import { AppError } from '../../core/errors.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { findJobContract, type JobName, type JobPayload } from './contracts.ts';
import { type QueueName, queueNames, retention } from './names.ts';
import { createQueueTransport, type QueueTransport } from './transport.ts';

export interface EnqueueOptions {
  /** Replace a completed or failed job of the same id (default false). */
  replaceFinished?: boolean;
  /**
   * How long to wait for the queue backend, in ms (default {@link ENQUEUE_TIMEOUT_MS}).
   * Longer for the reconciler, which is no request anyone waits on.
   */
  timeoutMs?: number;
  /**
   * BullMQ's priority (1 the highest, up to 2,097,151). Default none: such jobs run before
   * every prioritized job of their queue, first in, first out.
   */
  priority?: number;
}

/** How long an enqueue may wait for the queue backend before giving up. */
export const ENQUEUE_TIMEOUT_MS = 3000;

/** Jobs added per round trip by {@link Queues.enqueueAfterCommit}. */
export const BULK_CHUNK = 1000;

/**
 * The producer side of the queues: typed `enqueue` / `enqueueBulk` that validate the
 * payload, place the job on its queue and give it its deterministic id.
 */
export class Queues {
  /** Redis or PostgreSQL: shared by every Queue of this process. */
  readonly transport: QueueTransport;
  readonly prefix: string;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #queues = new Map<QueueName, Queue>();

  constructor(config: Config, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.prefix = config.queuePrefix;
    this.transport = createQueueTransport(config, logger, { role: 'producer' });
  }

  queue(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = this.transport.createQueue(name, { defaultJobOptions: retention });
      queue.on('error', (error) => this.#logger.warn({ err: error, queue: name }, 'queue error'));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Every queue, created if need be (for dashboards and health checks). */
  all(): Queue[] {
    return queueNames.map((name) => this.queue(name));
  }

  #prepare<N extends JobName>(name: N, payload: JobPayload<N>, priority?: number) {
    const job = findJobContract(name);
    if (!job) throw new Error(`Unknown job ${name}`);
    const data = job.payload.parse(payload);
    const opts = { ...job.options?.(this.#config), jobId: job.jobId(data), ...(priority ? { priority } : {}) };
    return { job, data, opts };
  }

  /**
   * Runs `add` only when the queue backend answers, and gives up after
   * {@link ENQUEUE_TIMEOUT_MS} with DEPENDENCY_UNAVAILABLE instead of waiting for a
   * reconnect: callers have already committed the work to PostgreSQL and must not hang.
   * A late add that still goes through is harmless (deterministic job ids).
   */
  async #withBackend(add: () => Promise<unknown>, timeoutMs = ENQUEUE_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const unavailable = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError('DEPENDENCY_UNAVAILABLE', `The queue (${this.transport.kind}) did not answer`)),
        timeoutMs,
      );
    });
    try {
      if (!this.transport.isConnected()) await Promise.race([this.transport.ping(), unavailable]);
      await Promise.race([add(), unavailable]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Adds a job under its deterministic id. BullMQ ignores an add while a job with that id
   * exists in any state, including finished ones kept for the job board; with
   * `replaceFinished` a completed or failed job of the same id is removed first, so work
   * that PostgreSQL says is unfinished (a resume, an operator's retry) really runs again.
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: EnqueueOptions = {}): Promise<void> {
    const { job, data, opts } = this.#prepare(name, payload, options.priority);
    const queue = this.queue(job.queue);
    await this.#withBackend(async () => {
      if (options.replaceFinished) await this.#removeFinished(queue, [opts.jobId]);
      await queue.add(name, data, opts);
    }, options.timeoutMs);
  }

  /** Adds many jobs of one kind in one round trip (see {@link enqueue} for the options). */
  async enqueueBulk<N extends JobName>(
    name: N,
    payloads: JobPayload<N>[],
    options: EnqueueOptions = {},
  ): Promise<void> {
    if (payloads.length === 0) return;
    const prepared = payloads.map((p) => this.#prepare(name, p, options.priority));
    const queue = this.queue((prepared[0] as (typeof prepared)[0]).job.queue);
    await this.#withBackend(async () => {
      if (options.replaceFinished)
        await this.#removeFinished(
          queue,
          prepared.map((p) => p.opts.jobId),
        );
      await queue.addBulk(prepared.map(({ data, opts }) => ({ name, data, opts })));
    }, options.timeoutMs);
  }

  /**
   * For work already committed to PostgreSQL: enqueues its jobs (in chunks of
   * {@link BULK_CHUNK}), and when the queue does not answer, logs a warning with `context`
   * instead of failing — the rows wait for the reconciler, which enqueues them under the
   * same job ids. Returns whether everything was enqueued.
   */
  async enqueueAfterCommit<N extends JobName>(
    name: N,
    payloads: JobPayload<N> | JobPayload<N>[],
    context: Record<string, unknown>,
    options: EnqueueOptions = {},
  ): Promise<boolean> {
    const all = Array.isArray(payloads) ? payloads : [payloads];
    try {
      if (all.length === 1) await this.enqueue(name, all[0] as JobPayload<N>, options);
      else
        for (let i = 0; i < all.length; i += BULK_CHUNK) {
          await this.enqueueBulk(name, all.slice(i, i + BULK_CHUNK), options);
        }
      return true;
    } catch (error) {
      this.#logger.warn({ err: error, job: name, ...context }, 'work recorded but not enqueued; it will run later');
      return false;
    }
  }

  async #removeFinished(queue: Queue, jobIds: string[]): Promise<void> {
    const states = await Promise.all(jobIds.map((id) => queue.getJobState(id)));
    const finished = jobIds.filter((_, i) => states[i] === 'completed' || states[i] === 'failed');
    await Promise.all(finished.map((id) => queue.remove(id)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    await this.transport.close();
  }
}
