import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { operationJobs } from '../../core/operation-kinds.ts';
import type { Config } from '../config.ts';
import type { QueueName } from './names.ts';

/**
 * One kind of background job as its producers see it: its name, the queue it runs on,
 * the schema of its payload, a deterministic job id (so enqueueing the same work twice is
 * a no-op while the first is still known to the queue), its options and, for sweeps, the
 * schedule a job scheduler runs it on. The handler lives in `workers/handlers/`, so the
 * API enqueues without loading any handler code.
 */
export interface JobContract<S extends z.ZodType = z.ZodType> {
  queue: QueueName;
  payload: S;
  /** Must not contain `:` nor be all digits (BullMQ's rules for custom ids). */
  jobId: (payload: z.output<S>) => string;
  options?: (config: Config) => JobsOptions;
  /** Run by a job scheduler (its id, kept stable in Redis) every so many milliseconds. */
  schedule?: { id: string; every: (config: Config) => number };
}

const contract = <S extends z.ZodType>(definition: JobContract<S>) => definition;

/** Mail jobs: SMTP 4xx and connection trouble retry with exponential backoff (MAIL_BACKOFF_MS, doubling) up to MAIL_ATTEMPTS. */
const mailOptions = (config: Config): JobsOptions => ({
  attempts: config.mailAttempts,
  backoff: { type: 'exponential', delay: config.mailBackoffMs },
});

const operationPayload = z.object({ operationId: z.string().min(1) });

/** One contract per operation kind, from the kinds table (core/operation-kinds.ts). */
function operationContract(job: (typeof operationJobs)[number]) {
  return contract({
    queue: 'operations',
    payload: operationPayload,
    jobId: ({ operationId }) => `${job}.${operationId}`,
    options: () =>
      job === 'verify-domain'
        ? // DNS changes take minutes to hours to be seen: a miss is retried with the `dns`
          // backoff (DOMAIN_VERIFY_RETRY_MS, doubling, at most 30 minutes apart) until the
          // record appears or DOMAIN_VERIFY_DEADLINE_SECONDS pass — the handler enforces the
          // deadline; the attempt count only has to be large enough.
          { attempts: 100_000, backoff: { type: 'dns' } }
        : { attempts: 8, backoff: { type: 'exponential', delay: 2000 } },
  });
}

const operationContracts = Object.fromEntries(operationJobs.map((job) => [job, operationContract(job)])) as Record<
  (typeof operationJobs)[number],
  ReturnType<typeof operationContract>
>;

/** Every job Mandate runs, by name. `enqueue('send-offer', payload)` is checked against it. */
export const jobContracts = {
  /**
   * Sends one recipient's offer email: how campaigns were sent before chunks. Jobs queued
   * then still run; nothing adds new ones.
   */
  'send-offer': contract({
    queue: 'mail',
    payload: z.object({ delegationId: z.string().min(1) }),
    jobId: ({ delegationId }) => `send-offer.${delegationId}`,
    options: mailOptions,
  }),
  /**
   * A token to send one chunk of campaign offers: one per chunk still to send, added when
   * the chunks are recorded. Which chunk a token sends is chosen when it runs, in turn
   * between partners (services/campaigns/send-chunk.ts, docs/adr/0027); a token ends only
   * with a chunk it finished, or when no chunk is left, and waits (the `chunk` backoff)
   * otherwise — attempts count waits, not failures of one email.
   */
  'send-chunk': contract({
    queue: 'campaign-mail',
    payload: z.object({ campaignId: z.string().min(1), chunk: z.number().int().min(0) }),
    jobId: ({ campaignId, chunk }) => `send-chunk.${campaignId}.${chunk}`,
    options: () => ({ attempts: 1_000_000, backoff: { type: 'chunk' } }),
  }),
  /**
   * Records the chunks of a campaign's waiting recipients that have none (a campaign
   * created before chunks) and adds the tokens of its chunks still to send. Safe to run
   * again: the tokens' ids are the chunks'.
   */
  'dispatch-campaign': contract({
    queue: 'campaigns',
    payload: z.object({ campaignId: z.string().min(1) }),
    jobId: ({ campaignId }) => `dispatch-campaign.${campaignId}`,
    options: () => ({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } }),
  }),
  /**
   * Writes one campaign reminder's emails to the outbox, in batches, each enqueued as it
   * commits: a job because a campaign may have a hundred thousand recipients still offered,
   * and the click that asked for it returns at once. Safe to run again: each email's dedupe
   * key is its recipient's and the reminder's, and a reminder marked recorded is done.
   */
  'remind-campaign': contract({
    queue: 'campaigns',
    payload: z.object({ campaignId: z.string().min(1), number: z.number().int().min(1) }),
    jobId: ({ campaignId, number }) => `remind-campaign.${campaignId}.${number}`,
    options: () => ({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } }),
  }),
  /**
   * Sends one notification email from the outbox (the `emails` table), on a queue of its
   * own so that no campaign delays it. Jobs added to `mail` before that change are still
   * run there: workers find handlers by job name, whatever the queue.
   */
  'send-email': contract({
    queue: 'transactional-mail',
    payload: z.object({ emailId: z.string().min(1) }),
    jobId: ({ emailId }) => `send-email.${emailId}`,
    options: mailOptions,
  }),
  /**
   * Delivers one webhook delivery (the `webhook_deliveries` outbox), signed. A failed try
   * waits as the delivery's own schedule says (about three days in all, the `webhook`
   * backoff); the row counts the tries, so attempts here only have to be enough.
   */
  'deliver-webhook': contract({
    queue: 'webhooks',
    payload: z.object({ deliveryId: z.string().min(1) }),
    jobId: ({ deliveryId }) => `deliver-webhook.${deliveryId}`,
    options: () => ({ attempts: 1_000, backoff: { type: 'webhook' } }),
  }),
  /** Grants an accepted delegation (accepting → active, or failed with a reason). */
  'process-acceptance': contract({
    queue: 'delegations',
    payload: z.object({ delegationId: z.string().min(1) }),
    jobId: ({ delegationId }) => `process-acceptance.${delegationId}`,
    options: () => ({ attempts: 10, backoff: { type: 'exponential', delay: 1000 } }),
  }),
  /**
   * The lifecycle sweep (auto-extend, expiry, unanswered offers, expiry notices), every
   * LIFECYCLE_INTERVAL_MS; any number of workers may pick it up.
   */
  'lifecycle-tick': contract({
    queue: 'maintenance',
    payload: z.object({}),
    jobId: () => 'lifecycle-tick',
    options: () => ({ attempts: 1 }),
    schedule: { id: 'lifecycle', every: (config) => config.lifecycleIntervalMs },
  }),
  /**
   * Re-enqueues unfinished work that the queue lost, every RECONCILE_INTERVAL_MS. Work
   * younger than RECONCILE_MIN_AGE_SECONDS is left to the jobs in flight.
   */
  reconcile: contract({
    queue: 'maintenance',
    payload: z.object({}),
    jobId: () => 'reconcile',
    options: () => ({ attempts: 1 }),
    schedule: { id: 'reconcile', every: (config) => config.reconcileIntervalMs },
  }),
  ...operationContracts,
} as const;

export type JobContracts = typeof jobContracts;
export type JobName = keyof JobContracts;
/** What a producer passes to `enqueue`. */
export type JobPayload<N extends JobName> = z.input<JobContracts[N]['payload']>;
/** What a handler receives: the payload after its schema. */
export type JobData<N extends JobName> = z.output<JobContracts[N]['payload']>;

export const jobNames = Object.keys(jobContracts) as JobName[];

export function findJobContract(name: string): JobContract | undefined {
  return Object.hasOwn(jobContracts, name) ? (jobContracts[name as JobName] as unknown as JobContract) : undefined;
}

/** The jobs that job schedulers run, with their schedule. */
export function scheduledJobs(config: Config): { id: string; name: JobName; queue: QueueName; every: number }[] {
  return jobNames.flatMap((name) => {
    const { schedule, queue } = jobContracts[name] as JobContract;
    return schedule ? [{ id: schedule.id, name, queue, every: schedule.every(config) }] : [];
  });
}
