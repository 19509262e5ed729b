/**
 * Operations throughput: n provision-user operations through `POST /v1/delegations/{id}/users`
 * until every one has succeeded (each creates a user and emails its temporary password to
 * the SMTP sink), against the same kinds of work done bare (Hono + BullMQ + one transaction
 * + one nodemailer email per operation, same concurrency, same sink), in turn, medians.
 * Alone: `tsx bench/operations.ts [n]` (default 10,000).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { createDb, createSql } from '../db/client.ts';
import { loadConfig } from '../lib/config.ts';
import { closeDeps, createDeps } from '../lib/deps.ts';
import { workerSettings } from '../lib/queues/names.ts';
import { createClientOrganization } from '../services/accounts/client-accounts.ts';
import { createPartner } from '../services/accounts/partners.ts';
import { acceptOffer, processAcceptance } from '../services/offers/acceptance.ts';
import { deleteQueueKeys } from '../test/helpers/stack.ts';
import {
  type BenchRow,
  createBenchDatabase,
  fmt,
  freePort,
  interleaved,
  median,
  renderTable,
  type Sink,
  spawnEntry,
  spread,
  startSinkProcess,
  waitForReady,
} from './support.ts';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Requests in flight at once while posting the operations. */
const IN_FLIGHT = 50;
const POLL_MS = 100;
const TIMEOUT_MS = 15 * 60_000;

/** Polls `count()` every 100 ms until it reaches `n`; fails fast when `broken()` says so. */
async function waitForCount(
  count: () => Promise<number>,
  n: number,
  what: string,
  broken: () => Promise<string | null> = async () => null,
): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const done = await count();
    if (done >= n) return;
    const problem = await broken();
    if (problem) throw new Error(`${what}: ${problem}`);
    if (Date.now() > deadline) throw new Error(`${what}: ${done} of ${n} after ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Runs `task(i)` for i in [0, n) with at most `limit` running at once. */
async function inPool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
}

/**
 * The honest baseline: the same kinds of work as a provision-user, bare (bench/bare-hono.ts
 * with BARE_OPERATIONS_DATABASE_URL) — Hono and a BullMQ worker in one process as
 * `npm start` is; n POSTs, 50 in flight, each inserting a row and adding a job; each job
 * one transaction (a guarded UPDATE and an INSERT) and then one email with nodemailer
 * (pool of 5) to the same sink, at the operations worker's concurrency. From the first
 * POST until the sink has every email. Returns operations/s.
 */
async function baseline(sink: Sink, n: number, concurrency: number): Promise<number> {
  const database = await createBenchDatabase();
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  let server: ReturnType<typeof spawnEntry> | undefined;
  try {
    await sql`create table items (id int primary key, name text not null, state text not null, attempts int not null default 0)`;
    await sql`create table item_events (id bigserial primary key, item_id int not null, at timestamptz not null default now())`;
    server = spawnEntry('bench/bare-hono.ts', {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      BARE_OPERATIONS_DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      BARE_QUEUE_PREFIX: prefix,
      BARE_CONCURRENCY: String(concurrency),
      SMTP_URL: sink.url,
      SMTP_POOL_SIZE: '5',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForReady(`${base}/v1/delegations/x`, server.output);
    const emailsBefore = await sink.count();
    const started = performance.now();
    let refused = '';
    await inPool(n, IN_FLIGHT, async (i) => {
      const response = await fetch(`${base}/ops/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${i}` },
        body: JSON.stringify({ name: `u${i}` }),
      });
      if (response.status !== 202) refused ||= `${response.status} ${await response.text()}`;
      else await response.arrayBuffer();
    });
    if (refused) throw new Error(`a baseline request was refused: ${refused}`);
    await waitForCount(async () => (await sink.count()) - emailsBefore, n, 'baseline emails');
    return n / ((performance.now() - started) / 1000);
  } finally {
    await server?.stop();
    await sql.end();
    await deleteQueueKeys(prefix);
    await database.drop();
  }
}

export interface OperationsResult {
  operations: number;
  /** Operations/s from the first request until every operation has succeeded. */
  perSecond: number;
  /** Requests/s answered 202 while posting. */
  intakePerSecond: number;
  /** Temporary-password emails the sink received. */
  emails: number;
}

/**
 * Mandate: `npm start` (API and workers in one process) on a fresh database; a partner,
 * a `full` offer accepted by one client organization; n provision-user requests, 50 in
 * flight, until every operation has succeeded.
 */
async function mandate(sink: Sink, n: number): Promise<OperationsResult> {
  const database = await createBenchDatabase();
  const port = await freePort();
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    QUEUE_BACKEND: 'redis',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SMTP_URL: sink.url,
    SMTP_POOL_SIZE: '5',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LINK_SECRET: randomBytes(32).toString('hex'),
    // No limiter on either kind of mail (the acceptance notifications go through the
    // transactional queue): the benchmark measures the work, not a pace.
    SEND_RATE_PER_SECOND: '0',
    TRANSACTIONAL_SEND_RATE_PER_SECOND: '0',
    LOG_LEVEL: 'warn',
  };
  const mandate = spawnEntry('start.ts', env);
  const base = `http://127.0.0.1:${port}`;
  const sql = createSql(database.url, { max: 2 });
  try {
    await waitForReady(`${base}/readyz`, mandate.output);
    const db = createDb(sql);
    const partner = await createPartner(db, {
      name: 'Bench Partner',
      ownerEmail: 'owner@bench.example',
      requireTwoFactor: false,
    });
    const headers = { authorization: `Bearer ${partner.token}`, 'content-type': 'application/json' };
    const offerResponse = await fetch(`${base}/v1/offers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'Bench', access: 'full' }),
    });
    if (offerResponse.status !== 201) throw new Error(`offer refused: ${await offerResponse.text()}`);
    const offer = (await offerResponse.json()) as { url: string };

    // One client organization accepts the offer's reusable link; the grant runs here, as
    // the process-acceptance job would (which then finds nothing left to do).
    const deps = createDeps(loadConfig(env), {});
    let delegationId: string;
    try {
      const email = 'admin@client.example';
      const { userId, orgId } = await createClientOrganization(db, {
        orgName: 'Bench Client',
        adminName: 'Admin',
        email,
        password: randomBytes(16).toString('hex'),
      });
      const viewer = {
        userId,
        email,
        displayName: 'Admin',
        orgId,
        orgKind: 'client' as const,
        orgName: 'Bench Client',
        isGlobalAdmin: true,
        mustChangePassword: false,
        mustEnrolSecondFactor: false,
        secondFactorFresh: false,
        recentlySignedIn: false,
      };
      ({ delegationId } = await acceptOffer(deps, offer.url.split('/').pop() as string, viewer));
      const granted = await processAcceptance(deps, delegationId);
      if (granted.outcome === 'failed') throw new Error(`delegation not granted: ${granted.reason}`);
    } finally {
      await closeDeps(deps);
    }
    // The acceptance notifications go out first, so the sink counts only what follows.
    await waitForCount(
      async () => Number((await sql`select count(*)::int as c from emails where state <> 'pending'`)[0]?.c),
      Number((await sql`select count(*)::int as c from emails`)[0]?.c),
      'acceptance emails',
    );
    const emailsBefore = await sink.count();

    const started = performance.now();
    let refused = '';
    await inPool(n, IN_FLIGHT, async (i) => {
      const response = await fetch(`${base}/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': `bench-${i}` },
        body: JSON.stringify({ displayName: `User ${i}`, userName: `u${i}` }),
      });
      if (response.status !== 202) refused ||= `${response.status} ${await response.text()}`;
      else await response.arrayBuffer();
    });
    const postedSeconds = (performance.now() - started) / 1000;
    if (refused) throw new Error(`a provision-user request was refused: ${refused}`);
    await waitForCount(
      async () => Number((await sql`select count(*)::int as c from operations where state = 'succeeded'`)[0]?.c),
      n,
      'Mandate operations',
      async () => {
        const [bad] = await sql`select state, error from operations where state in ('failed', 'rejected') limit 1`;
        return bad ? `an operation ${bad.state}: ${bad.error}` : null;
      },
    );
    const seconds = (performance.now() - started) / 1000;
    // Each operation succeeds only after the sink accepted its email.
    const emails = (await sink.count()) - emailsBefore;
    if (emails < n) throw new Error(`the sink has ${emails} of ${n} temporary-password emails`);
    return { operations: n, perSecond: n / seconds, intakePerSecond: n / postedSeconds, emails };
  } finally {
    await sql.end();
    await mandate.stop();
    await deleteQueueKeys(prefix);
    await database.drop();
  }
}

export async function benchOperations(sink: Sink, n = 10_000): Promise<BenchRow[]> {
  const concurrency = Number(
    workerSettings('operations', loadConfig({ NODE_ENV: 'test', WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY }))
      .concurrency,
  );
  // Warm Redis, PostgreSQL, the sink and the JIT so neither side pays for first use.
  await baseline(sink, Math.min(500, n), concurrency);
  const runs = await interleaved({
    baseline: () => baseline(sink, n, concurrency),
    mandate: () => mandate(sink, n),
  });
  const bare = median(runs.baseline);
  const ours = median(runs.mandate.map((r) => r.perSecond));
  return [
    {
      benchmark: `${fmt(n)} provision-user operations, end to end (ops/s, median)`,
      mandate: spread(runs.mandate.map((r) => r.perSecond)),
      baseline: `${spread(runs.baseline)} (bare Hono + BullMQ: a row and a job per POST; a transaction and an email per job; concurrency ${concurrency})`,
      ratio: (ours / bare).toFixed(2),
      target: '≥ 0.50',
      id: 'operations',
    },
    {
      benchmark: `POST /v1/delegations/{id}/users while they run, ${IN_FLIGHT} in flight (req/s, median)`,
      mandate: spread(runs.mandate.map((r) => r.intakePerSecond)),
      baseline: '—',
      ratio: '—',
      target: '—',
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? process.env.BENCH_OPERATIONS ?? 10_000);
  const sink = await startSinkProcess();
  try {
    const rows = await benchOperations(sink, n);
    console.log(renderTable(rows));
  } finally {
    sink.stop();
  }
}
