import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../lib/config.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { type Service, startTsx } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

const resultsDir = fileURLToPath(new URL('../../test-results', import.meta.url));

/** The environment of a real `worker` process on the same database, queues and sink as `stack`. */
export function workerEnv(
  stack: TestStack,
  sink: SmtpSink,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const c: Config = stack.config;
  return {
    NODE_ENV: 'test',
    DATABASE_URL: c.databaseUrl,
    REDIS_URL: c.redisUrl,
    // The stack's backend, so workers and API never sit on different queues.
    QUEUE_BACKEND: c.queueBackend,
    QUEUE_PREFIX: c.queuePrefix,
    SMTP_URL: sink.url,
    LINK_SECRET: c.linkSecret,
    PUBLIC_URL: c.publicUrl,
    SEND_RATE_PER_SECOND: '0',
    TRANSACTIONAL_SEND_RATE_PER_SECOND: '0',
    MAIL_BACKOFF_MS: '200',
    MAIL_ATTEMPTS: '20',
    // Fault scenarios need the recovery paths to act within seconds, not minutes.
    LEASE_SECONDS: '4',
    RECONCILE_INTERVAL_MS: '1000',
    RECONCILE_MIN_AGE_SECONDS: '3',
    SHUTDOWN_GRACE_MS: '20000',
    LOG_LEVEL: 'error',
    LOG_PRETTY: 'false',
    // Said, so a scenario's bound on duplicates (at most K per crash) reads it back.
    MAIL_UNCONFIRMED_MAX: String(c.mailUnconfirmedMax),
    ...overrides,
  };
}

/** K of a worker environment: the most emails one crash of that worker may duplicate. */
export function unconfirmedMax(env: Record<string, string>): number {
  return Number(env.MAIL_UNCONFIRMED_MAX);
}

export function startWorker(env: Record<string, string>): Service {
  return startTsx('bin/worker.ts', env);
}

/** A partner, an offer and a campaign of `n` recipients recorded through the API (no workers in this process). */
export async function recordCampaign(stack: TestStack, n: number, prefix: string) {
  const { token } = await createTestPartner(stack);
  const offer = await createTestOffer(stack, token);
  const emails = Array.from({ length: n }, (_, i) => `${prefix}-${i}@client.example`);
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId: offer.id, recipients: emails.map((email) => ({ email })) },
  });
  if (response.status !== 202) throw new Error(`campaign refused: ${response.status}`);
  const { id } = (await response.json()) as { id: string };
  return { campaignId: id, emails, token, offerId: offer.id };
}

export async function stateCounts(stack: TestStack, campaignId: string): Promise<Record<string, number>> {
  const rows = await stack.deps
    .sql`select state, count(*)::int as n from delegations where campaign_id = ${campaignId} group by state`;
  return Object.fromEntries(rows.map((r) => [r.state as string, r.n as number]));
}

export async function waitUntilSent(stack: TestStack, campaignId: string, timeoutMs: number) {
  return waitFor(async () => {
    const counts = await stateCounts(stack, campaignId);
    return (counts.invited ?? 0) === 0 ? counts : undefined;
  }, timeoutMs);
}

export async function waitUntilDelivered(sink: SmtpSink, emails: string[], count: number, timeoutMs = 60_000) {
  const wanted = new Set(emails);
  await waitFor(async () => {
    let n = 0;
    for (const m of sink.messages) if (m.to.some((t) => wanted.has(t))) n++;
    return n >= count;
  }, timeoutMs);
}

export interface Tally {
  asked: number;
  delivered: number;
  duplicates: number;
  lost: number;
}

/** What the sink received for `emails`: distinct recipients reached, extra copies, recipients missed. */
export function tally(sink: SmtpSink, emails: string[]): Tally {
  const wanted = new Set(emails);
  const copies = new Map<string, number>();
  for (const m of sink.messages) for (const to of m.to) if (wanted.has(to)) copies.set(to, (copies.get(to) ?? 0) + 1);
  const delivered = copies.size;
  const duplicates = [...copies.values()].reduce((sum, n) => sum + (n - 1), 0);
  return { asked: emails.length, delivered, duplicates, lost: emails.length - delivered };
}

/** Prints and keeps the scenario's line: `scenario, asked, delivered, duplicates, lost, seconds`. */
export function report(scenario: string, t: Tally, startedAt: number): string {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const line = `${scenario}, ${t.asked}, ${t.delivered}, ${t.duplicates}, ${t.lost}, ${seconds}`;
  process.stdout.write(`\n${line}\n`);
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(`${resultsDir}/chaos.txt`, `${line}\n`);
  return line;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChaosWorld {
  stack: TestStack;
  sink: SmtpSink;
  /** Starts a real worker process on this world's database, queues and sink. */
  worker(overrides?: Record<string, string>): Service;
  /** The environment those workers get. */
  env(overrides?: Record<string, string>): Record<string, string>;
}

/**
 * One scenario's world: an SMTP sink, a stack (database, queues, the API in-process), and
 * the worker processes it starts — all torn down after the file, workers with SIGKILL.
 */
export function chaosWorld(options: {
  sink?: Parameters<typeof startSmtpSink>[0];
  stackEnv?: () => Record<string, string>;
  /** The stack's database (default: a fresh one on the shared server); its maker drops it. */
  database?: () => Promise<TestDatabase>;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}): ChaosWorld {
  const workers: Service[] = [];
  const world = {} as ChaosWorld;
  beforeAll(async () => {
    await options.before?.();
    world.sink = await startSmtpSink(options.sink);
    world.stack = await createTestStack({
      env: { SMTP_URL: world.sink.url, ...options.stackEnv?.() },
      ...(options.database ? { database: await options.database() } : {}),
    });
    world.env = (overrides = {}) => workerEnv(world.stack, world.sink, overrides);
    world.worker = (overrides = {}) => {
      const service = startWorker(world.env(overrides));
      workers.push(service);
      return service;
    };
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await world.stack?.close();
    await world.sink?.close();
    await options.after?.();
  });
  return world;
}

/** When each of `emails` first reached the sink (Date.now()); absent: not yet. */
export function firstArrivals(sink: SmtpSink, emails: string[]): Map<string, number> {
  const wanted = new Set(emails);
  const first = new Map<string, number>();
  for (const m of sink.messages) {
    for (const to of m.to) if (wanted.has(to) && !first.has(to)) first.set(to, m.receivedAt);
  }
  return first;
}

/** Copies of the email the sink holds for one recipient. */
export function copiesFor(sink: SmtpSink, email: string): number {
  return sink.messages.filter((m) => m.to.includes(email)).length;
}

/**
 * One recipient's delegation as the partner's API tells it: its state, and whether its
 * offer was recorded as sent on assumption (two interrupted sends, ADR 5).
 */
export async function recipientAsTold(stack: TestStack, token: string, campaignId: string, email: string) {
  const [row] = await stack.deps
    .sql`select id from delegations where campaign_id = ${campaignId} and recipient_email = ${email}`;
  if (!row) throw new Error(`no delegation for ${email}`);
  const response = await stack.request(`/v1/delegations/${row.id as string}`, { token });
  if (response.status !== 200) throw new Error(`GET /v1/delegations/${row.id as string}: ${response.status}`);
  const body = (await response.json()) as {
    state: string;
    events: { event: string; detail: Record<string, unknown> | null }[];
  };
  const assumed = body.events.some((e) => e.event === 'send_succeeded' && e.detail?.assumed === true);
  return { state: body.state, assumed, events: body.events };
}

export interface Supervisor {
  /** The worker running now (or the last one, once the supervisor gave up or stopped). */
  readonly current: Service;
  /** When each worker died (Date.now()), in order. */
  readonly deaths: number[];
  /** True once a death past `maxRestarts` was left without a restart. */
  readonly gaveUp: boolean;
  /** Stops supervising and ends the running worker with SIGTERM. */
  stop(): Promise<void>;
}

/**
 * Runs one worker process and starts another whenever it dies, as a supervisor
 * (systemd's `Restart=always`, a container's restart policy) would — up to `maxRestarts`.
 */
export function supervise(
  world: ChaosWorld,
  overrides: Record<string, string> = {},
  options: { maxRestarts: number; restartDelayMs?: number },
): Supervisor {
  const deaths: number[] = [];
  let stopped = false;
  let gaveUp = false;
  let current: Service;
  const start = () => {
    current = world.worker(overrides);
    current.child.once('exit', () => {
      if (stopped) return;
      deaths.push(Date.now());
      if (deaths.length > options.maxRestarts) {
        gaveUp = true;
        return;
      }
      setTimeout(() => {
        if (!stopped) start();
      }, options.restartDelayMs ?? 200);
    });
  };
  start();
  return {
    get current() {
      return current;
    },
    deaths,
    get gaveUp() {
      return gaveUp;
    },
    async stop() {
      stopped = true;
      await current.stop();
    },
  };
}

export interface KillMark {
  /** When the worker was killed and its successor started (Date.now()). */
  killedAt: number;
  restartedAt: number;
  /** The recipients the sink had not received when the kill came. */
  undelivered: Set<string>;
}

/**
 * What each kill left for later, measured from the sink once the campaign is done.
 * The recipients a kill stranded — the ones the dead process held — are those the next
 * process skipped over: not delivered at the kill, and before (in campaign order) the
 * first recipients that process delivered; minus those an earlier kill stranded.
 * `resumedSeconds`: restart → the next recipient delivered (new work flows again);
 * `recoveredSeconds`: restart → the last stranded recipient delivered (the dead process's
 * hold on its work is gone).
 */
export function recoveryAfterKills(sink: SmtpSink, emails: string[], kills: KillMark[]) {
  const first = firstArrivals(sink, emails);
  const order = new Map(emails.map((e, i) => [e, i]));
  const alreadyStranded = new Set<string>();
  return kills.map((kill, k) => {
    const next = kills[k + 1];
    const after = emails
      .filter((e) => kill.undelivered.has(e) && (first.get(e) ?? Number.POSITIVE_INFINITY) >= kill.restartedAt)
      .sort((a, b) => (first.get(a) ?? 0) - (first.get(b) ?? 0));
    // The successor's first deliveries, before any lease could end: where it started.
    const early = after.slice(0, 20).map((e) => order.get(e) ?? 0);
    const front = early.length > 0 ? (early.sort((a, b) => a - b)[Math.floor(early.length / 2)] ?? 0) : 0;
    const stranded = after.filter((e) => (order.get(e) ?? 0) < front && !alreadyStranded.has(e));
    for (const e of stranded) alreadyStranded.add(e);
    const resumed = after.find((e) => !stranded.includes(e) && (order.get(e) ?? 0) >= front);
    const seconds = (at: number | undefined) =>
      at === undefined || !Number.isFinite(at) ? Number.NaN : (at - kill.restartedAt) / 1000;
    const lastStranded = stranded.reduce((t, e) => Math.max(t, first.get(e) ?? Number.POSITIVE_INFINITY), 0);
    return {
      stranded: stranded.length,
      strandedRecipients: stranded,
      resumedSeconds: seconds(resumed === undefined ? undefined : first.get(resumed)),
      recoveredSeconds: stranded.length === 0 ? 0 : seconds(lastStranded),
      /** Whether the next kill came before this one's stranded recipients were delivered. */
      overlapped: next !== undefined && lastStranded > next.killedAt,
    };
  });
}
