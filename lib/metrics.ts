import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { delegationStates } from '../core/delegation-machine.ts';
import type { Deps } from './deps.ts';
import { withTimeout } from './retry.ts';

/**
 * The Prometheus registry of this process (not prom-client's global one). Module-level on
 * purpose — the one exception to "no singletons": prom-client refuses to register a name
 * twice, and the API and the workers of one process (`npm start`, or a test file with
 * several apps) must report into the same counters anyway.
 */
export const metricsRegistry = new Registry();
// Left unprefixed (process_*, nodejs_*): the names every Node.js dashboard expects.
collectDefaultMetrics({ register: metricsRegistry });

const httpRequestDuration = new Histogram({
  name: 'mandate_http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

const jobsCompleted = new Counter({
  name: 'mandate_jobs_completed_total',
  help: 'Jobs run to completion, by queue and job name',
  labelNames: ['queue', 'name'] as const,
  registers: [metricsRegistry],
});

const jobsFailed = new Counter({
  name: 'mandate_jobs_failed_total',
  help: 'Failed job attempts, by queue and job name; final="true" when the job will not be retried',
  labelNames: ['queue', 'name', 'final'] as const,
  registers: [metricsRegistry],
});

const jobDuration = new Histogram({
  name: 'mandate_job_duration_seconds',
  help: 'Time one job attempt took in its handler, by queue, job name and outcome (completed, failed, or waited: a campaign chunk token that found nothing it may send yet)',
  labelNames: ['queue', 'name', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
  registers: [metricsRegistry],
});

const emailsTotal = new Counter({
  name: 'mandate_emails_total',
  help: 'SMTP attempts by kind (offer, notification) and outcome (sent; rejected: refused for good; deferred: temporary, will retry; failed: temporary on the last attempt)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

const bouncesTotal = new Counter({
  name: 'mandate_bounces_total',
  help: 'Mail to the bounce listener by outcome: failed (a permanent report failed a delegation), kept (a permanent report kept, the delegation had moved on), delayed (a delay report kept), duplicate (a report already kept), ignored (a report of success), unparseable, forged (an address on the bounce domain Mandate did not give out), foreign (another domain), oversized, capped (not kept: the delegation has its fill of reports), invalid (a report the database refused as data, dropped), not_null_sender (a message whose MAIL FROM was not the null sender <> that real reports use; taken all the same)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Job states counted per queue at scrape time. */
const queueJobStates = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

const queueJobs = new Gauge({
  name: 'mandate_queue_jobs',
  help: 'Jobs in each queue by state, read from Redis when scraped (completed and failed: those still retained)',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
});

const delegationsByState = new Gauge({
  name: 'mandate_delegations',
  help: 'Delegations by state, read from PostgreSQL when scraped',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
});

const scrapeError = new Gauge({
  name: 'mandate_scrape_error',
  help: '1 when the last scrape could not read a source (redis, postgres); its gauges are then missing',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

/** Records one HTTP request under its route pattern (never the raw path: it can carry tokens). */
export function observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
  httpRequestDuration.observe({ method, route, status: String(status) }, seconds);
}

/** Records one job attempt: its duration and whether it completed, failed and retries, or failed for good. */
export function observeJobRun(
  queue: string,
  name: string,
  result: 'completed' | 'retry' | 'final' | 'waited',
  seconds: number,
): void {
  // `waited`: a campaign's chunk token that found nothing it may send yet — routine, not a failure.
  jobDuration.observe(
    { queue, name, outcome: result === 'completed' || result === 'waited' ? result : 'failed' },
    seconds,
  );
  if (result === 'completed') jobsCompleted.inc({ queue, name });
  else if (result !== 'waited') jobsFailed.inc({ queue, name, final: String(result === 'final') });
}

export type EmailKind = 'offer' | 'notification';
export type EmailOutcome = 'sent' | 'rejected' | 'deferred' | 'failed';

/** Counts one SMTP attempt's outcome. */
export function countEmail(kind: EmailKind, outcome: EmailOutcome): void {
  emailsTotal.inc({ kind, outcome });
}

export const bounceOutcomes = [
  'failed',
  'kept',
  'delayed',
  'duplicate',
  'ignored',
  'unparseable',
  'forged',
  'foreign',
  'oversized',
  'capped',
  'invalid',
  'not_null_sender',
] as const;
export type BounceOutcome = (typeof bounceOutcomes)[number];

/** Counts one message (or one refused recipient) at the bounce listener. */
export function countBounce(outcome: BounceOutcome): void {
  bouncesTotal.inc({ outcome });
}

export const webhookOutcomes = ['delivered', 'retrying', 'failed', 'gone', 'refused', 'endpoint_off'] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

const webhookDeliveriesTotal = new Counter({
  name: 'mandate_webhook_deliveries_total',
  help: 'Webhook delivery tries by outcome: delivered (a 2xx), retrying (failed, will try again), failed (failed for good: its last try, or a 410), gone (a 410 Gone turned its endpoint off), refused (the address is not allowed; counted besides retrying or failed), endpoint_off (its endpoint was turned off before the try)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Counts one webhook delivery try's outcome. */
export function countWebhookDelivery(outcome: WebhookOutcome): void {
  webhookDeliveriesTotal.inc({ outcome });
}

/** How long a scrape waits for Redis or PostgreSQL before reporting it as an error. */
const SOURCE_TIMEOUT_MS = 3000;

async function readQueueCounts(deps: Pick<Deps, 'queues'>) {
  return withTimeout(SOURCE_TIMEOUT_MS, () =>
    Promise.all(
      deps.queues
        .all()
        .map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts(...queueJobStates) })),
    ),
  );
}

async function readDelegationCounts(deps: Pick<Deps, 'sql'>) {
  return withTimeout(SOURCE_TIMEOUT_MS, () =>
    deps.sql.begin(async (tx) => {
      // A full count: keep a slow one from piling up behind the next scrapes.
      await tx.unsafe(`set local statement_timeout = ${SOURCE_TIMEOUT_MS}`);
      return tx<{ state: string; n: number }[]>`select state, count(*)::int as n from delegations group by state`;
    }),
  );
}

/** Scrapes run one at a time: each resets the shared scrape-time gauges before it fills them. */
let previousScrape: Promise<unknown> = Promise.resolve();

/**
 * The exposition text of {@link metricsRegistry}, with the scrape-time gauges (queue depth,
 * delegations by state) read now through `deps`. A source that does not answer leaves its
 * gauges out and sets `mandate_scrape_error{source}` to 1, so the scrape itself still works.
 */
export async function scrapeMetrics(deps: Pick<Deps, 'queues' | 'sql' | 'logger'>): Promise<string> {
  const [queues, delegations] = await Promise.allSettled([readQueueCounts(deps), readDelegationCounts(deps)]);
  const scrape = previousScrape.then(() => {
    queueJobs.reset();
    if (queues.status === 'fulfilled') {
      for (const { queue, counts } of queues.value) {
        for (const state of queueJobStates) queueJobs.set({ queue, state }, counts[state] ?? 0);
      }
    } else {
      deps.logger.warn({ err: queues.reason }, 'metrics: could not read the queue counts from Redis');
    }
    scrapeError.set({ source: 'redis' }, queues.status === 'fulfilled' ? 0 : 1);

    delegationsByState.reset();
    if (delegations.status === 'fulfilled') {
      const counts = new Map(delegations.value.map((row) => [row.state, row.n]));
      for (const state of delegationStates) delegationsByState.set({ state }, counts.get(state) ?? 0);
    } else {
      deps.logger.warn({ err: delegations.reason }, 'metrics: could not count delegations in PostgreSQL');
    }
    scrapeError.set({ source: 'postgres' }, delegations.status === 'fulfilled' ? 0 : 1);
    return metricsRegistry.metrics();
  });
  previousScrape = scrape.catch(() => undefined);
  return scrape;
}

/** The content type of {@link scrapeMetrics}' text. */
export const metricsContentType = metricsRegistry.contentType;
