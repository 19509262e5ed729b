import type { WorkerOptions } from 'bullmq';
import { domainCheckPauseMs } from '../../core/domain-names.ts';
import type { Config } from '../config.ts';

/**
 * The queues. Kept apart so each has its own concurrency and limits: `campaign-mail`
 * carries the campaigns' chunk tokens (docs/adr/0027), paced in the send pipeline; `mail`
 * the one-recipient offer jobs queued before chunks, under the send rate limit, which must
 * not slow campaign fan-out or the granting of accepted delegations; `transactional-mail` carries the outbox
 * (address confirmations that expire within the hour, notifications) under a limit of its
 * own, so it never waits behind a campaign (docs/adr/0025); `webhooks` delivers events to
 * the partners' receivers, whose slowness must not hold up anything else; `maintenance`
 * runs the lifecycle scheduler.
 */
export const queueNames = [
  'campaign-mail',
  'mail',
  'transactional-mail',
  'campaigns',
  'delegations',
  'operations',
  'webhooks',
  'maintenance',
] as const;
export type QueueName = (typeof queueNames)[number];

/** Per-queue worker settings, from the configuration. */
export function workerSettings(
  queue: QueueName,
  config: Config,
): Pick<WorkerOptions, 'concurrency' | 'limiter' | 'settings' | 'maxStalledCount'> {
  switch (queue) {
    case 'campaign-mail':
      return {
        // Chunks in flight per process: each sends up to MAIL_CONCURRENCY recipients at
        // once; the second keeps the pipeline full while the first finishes.
        concurrency: 2,
        // A token whose process died goes back to the queue; a chunk that stops its worker
        // every time is isolated by the engine (recipients interrupted twice go alone), so
        // its token may stall a few times before the email fails.
        maxStalledCount: 10,
        settings: {
          // `chunk`: the wait the engine asked for (ChunkWaits.retryAfterMs).
          backoffStrategy: (_attemptsMade: number, type?: string, error?: Error) =>
            type === 'chunk' ? ((error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 5_000) : 0,
        },
      };
    case 'mail':
      return mailSettings(config.mailConcurrency, config.sendRatePerSecond);
    case 'transactional-mail':
      return mailSettings(config.mailConcurrency, config.transactionalSendRatePerSecond);
    case 'campaigns':
    case 'delegations':
      return { concurrency: config.workerConcurrency };
    case 'operations':
      return {
        concurrency: config.workerConcurrency,
        // `dns`: DNS lookups that have not seen a record yet wait longer each time, up to 30 minutes.
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) =>
            type === 'dns' ? domainCheckPauseMs(config.domainVerifyRetryMs, attemptsMade) : 0,
        },
      };
    case 'webhooks':
      return {
        // Mostly waiting on receivers (up to WEBHOOK_TIMEOUT_MS each).
        concurrency: config.webhookConcurrency,
        // A job whose process died goes back to the queue; the row's lease keeps two tries apart.
        maxStalledCount: 10,
        // `webhook`: the wait the delivery asked for (WebhookWaits.retryAfterMs).
        settings: {
          backoffStrategy: (_attemptsMade: number, type?: string, error?: Error) =>
            type === 'webhook' ? ((error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 5_000) : 0,
        },
      };
    case 'maintenance':
      // Sweeps are set-based; one at a time per process is plenty.
      return { concurrency: 1 };
  }
}

/** A mail queue's settings: BullMQ's limiter is global, it holds across every worker process of the backend. */
function mailSettings(concurrency: number, perSecond: number): Pick<WorkerOptions, 'concurrency' | 'limiter'> {
  return { concurrency, ...(perSecond > 0 ? { limiter: { max: perSecond, duration: 1000 } } : {}) };
}

/**
 * How long finished jobs stay in Redis. PostgreSQL holds the record of what happened;
 * Redis keeps recent jobs for the job board only, so its memory stays bounded.
 */
export const retention = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;
