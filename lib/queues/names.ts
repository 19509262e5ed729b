import type { WorkerOptions } from 'bullmq';
import type { Config } from '../config.ts';

/**
 * The queues. Kept apart so each has its own concurrency and limits: the `mail`
 * queue carries the SMTP rate limit, which must not slow campaign fan-out or the
 * granting of accepted delegations; `maintenance` runs the lifecycle scheduler.
 */
export const queueNames = ['mail', 'campaigns', 'delegations', 'operations', 'maintenance'] as const;
export type QueueName = (typeof queueNames)[number];

/** Per-queue worker settings, from the configuration. */
export function workerSettings(
  queue: QueueName,
  config: Config,
): Pick<WorkerOptions, 'concurrency' | 'limiter' | 'settings'> {
  switch (queue) {
    case 'mail':
      return {
        concurrency: config.mailConcurrency,
        // BullMQ's limiter is global: it holds across every worker process on this Redis.
        ...(config.sendRatePerSecond > 0 ? { limiter: { max: config.sendRatePerSecond, duration: 1000 } } : {}),
      };
    case 'campaigns':
    case 'delegations':
      return { concurrency: config.workerConcurrency };
    case 'operations':
      return {
        concurrency: config.workerConcurrency,
        // `dns`: DNS lookups that have not seen a record yet wait longer each time, up to 30 minutes.
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) =>
            type === 'dns' ? Math.min(config.domainVerifyRetryMs * 2 ** Math.max(0, attemptsMade - 1), 30 * 60_000) : 0,
        },
      };
    case 'maintenance':
      // Sweeps are set-based; one at a time per process is plenty.
      return { concurrency: 1 };
  }
}

/**
 * How long finished jobs stay in Redis. PostgreSQL holds the record of what happened;
 * Redis keeps recent jobs for the job board only, so its memory stays bounded.
 */
export const retention = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;
