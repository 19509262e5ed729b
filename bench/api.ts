/**
 * API throughput and latency: autocannon at a fixed number of connections against
 * `GET /v1/delegations/{id}` and `POST /v1/delegations/{id}/users` (a unique
 * Idempotency-Key per request) of `bin/api.ts` alone (no workers, on a fresh bench
 * database), against bare Hono (bench/bare-hono.ts) answering the same bytes, and against
 * bare Hono + postgres.js doing the GET's database work — the ceiling for a route that
 * reads the database on this machine. Bare Hono and Mandate in turn, BENCH_ROUNDS rounds
 * (bench/support.ts), medians; ~65 s a round.
 * `tsx bench/api.ts` runs it alone and prints the rows; BENCH_API_CONNECTIONS (20) and
 * BENCH_API_SECONDS (10) change the load.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { migrateDatabase } from '../db/migrate.ts';
import { loadConfig } from '../lib/config.ts';
import { closeDeps, createDeps, type Deps } from '../lib/deps.ts';
import { delegationLinkToken, sha256Hex } from '../lib/secrets.ts';
import { createClientOrganization } from '../services/accounts/client-accounts.ts';
import { createPartner } from '../services/accounts/partners.ts';
import { applyTransition, systemActor } from '../services/delegations/transitions.ts';
import { acceptOffer, processAcceptance } from '../services/offers/acceptance.ts';
import { deleteQueueKeys } from '../test/helpers/stack.ts';
import {
  type BenchRow,
  createBenchDatabase,
  fmt,
  freePort,
  median,
  renderTable,
  rounds,
  spawnEntry,
  spread,
  waitForReady,
} from './support.ts';

/** Concurrent connections autocannon keeps open (no pipelining). */
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 20);
/** Seconds measured per run, each after a warm-up run that is thrown away. */
const DURATION_S = Number(process.env.BENCH_API_SECONDS ?? 10);
const WARMUP_S = 2;

export interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  requests: number;
}

interface Target {
  base: string;
  get: { path: string; headers: Record<string, string> };
  post: { path: string; headers: Record<string, string>; status: number };
}

/** Runs autocannon once; every answer must have `status`, else the bench fails loudly. */
async function load(
  name: string,
  url: string,
  status: number,
  options: Pick<autocannon.Options, 'method' | 'headers' | 'requests'>,
  seconds: number,
): Promise<LoadResult> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, ...options });
  const codes = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}×${s.count ?? 0}`);
  const wrong = Object.keys(result.statusCodeStats ?? {}).some((code) => Number(code) !== status);
  if (wrong || result.errors > 0 || result.timeouts > 0 || result.requests.total === 0) {
    throw new Error(
      `${name}: expected only ${status}, got ${codes.join(', ') || 'nothing'} (${result.errors} errors, ${result.timeouts} timeouts)`,
    );
  }
  return {
    perSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  };
}

/** A warm-up run (the first round only), then the measured one, for the GET and the POST of one target. */
async function measure(label: string, target: Target, warm: boolean): Promise<{ get: LoadResult; post: LoadResult }> {
  const getUrl = `${target.base}${target.get.path}`;
  const getOptions = { method: 'GET' as const, headers: target.get.headers };
  if (warm) await load(`${label} GET (warm-up)`, getUrl, 200, getOptions, WARMUP_S);
  const get = await load(`${label} GET`, getUrl, 200, getOptions, DURATION_S);

  // Each request a new key and a new user name: nothing is a replay, every one is new work.
  let n = 0;
  const postOptions = {
    method: 'POST' as const,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          n += 1;
          const i = `${process.pid}-${n}`;
          return {
            ...request,
            headers: { ...target.post.headers, 'content-type': 'application/json', 'idempotency-key': `bench-${i}` },
            body: JSON.stringify({ displayName: `Bench User ${n}`, userName: `bench.user.${i}` }),
          };
        },
      },
    ],
  };
  const postUrl = `${target.base}${target.post.path}`;
  if (warm) await load(`${label} POST (warm-up)`, postUrl, target.post.status, postOptions, WARMUP_S);
  const post = await load(`${label} POST`, postUrl, target.post.status, postOptions, DURATION_S);
  return { get, post };
}

/**
 * An active delegation with access full, the way a client gets one: a campaign of one
 * recipient (its email counted as sent), a new client organization, acceptance, grant.
 */
async function activeDelegation(deps: Deps, base: string, token: string): Promise<string> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };
  const offer = await post('/v1/offers', { name: 'Bench', access: 'full' });
  const campaign = await post('/v1/campaigns', { offerId: offer.id, recipients: [{ email: 'admin@client.example' }] });
  const [row] = await deps.sql`select id from delegations where campaign_id = ${campaign.id}`;
  const delegationId = row?.id as string;
  // What the send-offer worker does once the email is out (no workers run here).
  const linkToken = delegationLinkToken(deps.config.linkSecret, delegationId);
  await deps.sql`update delegations set token_hash = ${sha256Hex(linkToken)} where id = ${delegationId}`;
  await applyTransition(deps.db, { delegationId, from: 'invited', event: 'send_succeeded', actor: systemActor });

  const email = 'admin@client.example';
  const { userId, orgId } = await createClientOrganization(deps.db, {
    orgName: 'Bench Client',
    adminName: 'Admin',
    email,
    password: 'correct horse battery staple',
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
  await acceptOffer(deps, linkToken, viewer);
  const outcome = await processAcceptance(deps, delegationId);
  if (outcome.outcome !== 'activated') throw new Error(`delegation not activated: ${JSON.stringify(outcome)}`);
  return delegationId;
}

/**
 * Mandate: `bin/api.ts` alone on the bench database, with an active delegation to read and
 * write under. Returns what the runs need, the body it answers, and how to stop it.
 */
async function startMandate(databaseUrl: string) {
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    // Required in production; the API alone sends no mail (nothing listens there).
    SMTP_URL: 'smtp://127.0.0.1:9',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LINK_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
  };
  let deps: Deps | undefined;
  let api: ReturnType<typeof spawnEntry> | undefined;
  try {
    await migrateDatabase(databaseUrl);
    api = spawnEntry('bin/api.ts', env);
    const base = `http://127.0.0.1:${port}`;
    await waitForReady(`${base}/readyz`, api.output);
    deps = createDeps(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
    const { token } = await createPartner(deps.db, {
      name: 'Bench Partner',
      ownerEmail: 'owner@bench.example',
      requireTwoFactor: false,
    });
    const delegationId = await activeDelegation(deps, base, token);

    const auth = { authorization: `Bearer ${token}` };
    const path = `/v1/delegations/${delegationId}`;
    const sample = await fetch(`${base}${path}`, { headers: auth });
    const getBody = await sample.text();
    if (sample.status !== 200) throw new Error(`GET ${path}: ${sample.status} ${getBody}`);
    const target: Target = {
      base,
      get: { path, headers: auth },
      post: { path: `${path}/users`, headers: auth, status: 202 },
    };
    const opened = { api, deps };
    return {
      target,
      getBody,
      path,
      auth,
      async stop() {
        await opened.api.stop();
        await closeDeps(opened.deps);
        // The operations' jobs, never run: no workers here.
        await deleteQueueKeys(prefix);
      },
    };
  } catch (error) {
    if (api) console.error(api.output().slice(-4000));
    await api?.stop();
    if (deps) await closeDeps(deps);
    await deleteQueueKeys(prefix);
    throw error;
  }
}

/** Bare Hono answering Mandate's bodies, and the same GET doing Mandate's database work. */
async function startBareHono(mandate: Awaited<ReturnType<typeof startMandate>>, databaseUrl: string) {
  const port = await freePort();
  const server = spawnEntry('bench/bare-hono.ts', {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    BARE_GET_BODY: mandate.getBody,
    // A placeholder until Mandate's first POST: the same length as an operation's answer.
    BARE_POST_BODY: JSON.stringify({ operationId: `op_${'0'.repeat(32)}` }),
    BARE_DATABASE_URL: databaseUrl,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForReady(`${base}${mandate.path}`, server.output);
  const target: Target = {
    base,
    get: { path: mandate.path, headers: {} },
    post: { path: `${mandate.path}/users`, headers: {}, status: 202 },
  };
  return { target, base, stop: () => server.stop() };
}

export async function benchApi(): Promise<BenchRow[]> {
  const database = await createBenchDatabase();
  const runs = { mandateGet: [] as LoadResult[], mandatePost: [] as LoadResult[] };
  const bareRuns = { get: [] as LoadResult[], post: [] as LoadResult[], withDb: [] as LoadResult[] };
  let getBody = '';
  try {
    const mandate = await startMandate(database.url);
    getBody = mandate.getBody;
    try {
      const bare = await startBareHono(mandate, database.url);
      try {
        const dbUrl = `${bare.base}/db${mandate.path}`;
        const dbOptions = { method: 'GET' as const, headers: mandate.auth };
        // A B A B: bare Hono (constant body, then the same statement), then Mandate, each round.
        for (let round = 0; round < rounds(); round++) {
          const warm = round === 0;
          const b = await measure('bare Hono', bare.target, warm);
          bareRuns.get.push(b.get);
          bareRuns.post.push(b.post);
          if (warm) await load('bare Hono + postgres.js GET (warm-up)', dbUrl, 200, dbOptions, WARMUP_S);
          bareRuns.withDb.push(await load('bare Hono + postgres.js GET', dbUrl, 200, dbOptions, DURATION_S));
          const m = await measure('Mandate', mandate.target, warm);
          runs.mandateGet.push(m.get);
          runs.mandatePost.push(m.post);
        }
      } finally {
        await bare.stop();
      }
    } finally {
      await mandate.stop();
    }
  } finally {
    await database.drop();
  }
  const bytes = Buffer.byteLength(getBody);
  const rate = (r: readonly LoadResult[]) => median(r.map((x) => x.perSecond));
  const p = (r: readonly LoadResult[], key: 'p50' | 'p99') => fmt(median(r.map((x) => x[key])), 1);
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const perSecond = (r: readonly LoadResult[]) => spread(r.map((x) => x.perSecond));
  return [
    {
      benchmark: `GET /v1/delegations/{id}, ${CONNECTIONS} connections, ${fmt(bytes)}-byte body (req/s, median)`,
      mandate: perSecond(runs.mandateGet),
      baseline: `${perSecond(bareRuns.get)} (bare Hono, constant body)`,
      ratio: ratio(rate(runs.mandateGet), rate(bareRuns.get)),
      target: '—',
    },
    {
      benchmark: 'the same GET against bare Hono + postgres.js running the same statement (req/s, median)',
      mandate: perSecond(runs.mandateGet),
      baseline: `${perSecond(bareRuns.withDb)} (p99 ${p(bareRuns.withDb, 'p99')} ms)`,
      ratio: ratio(rate(runs.mandateGet), rate(bareRuns.withDb)),
      target: '≥ 0.85',
      id: 'api-get-db',
    },
    {
      benchmark: 'GET /v1/delegations/{id} p99 (ms, median)',
      mandate: `${p(runs.mandateGet, 'p99')} (p50 ${p(runs.mandateGet, 'p50')})`,
      baseline: `${p(bareRuns.get, 'p99')} (p50 ${p(bareRuns.get, 'p50')})`,
      ratio: '—',
      target: '< 20',
      id: 'api-get-p99',
    },
    {
      benchmark: 'POST /v1/delegations/{id}/users with Idempotency-Key (req/s, median)',
      mandate: perSecond(runs.mandatePost),
      baseline: `${perSecond(bareRuns.post)} (bare Hono, 202)`,
      ratio: ratio(rate(runs.mandatePost), rate(bareRuns.post)),
      target: '—',
    },
    {
      benchmark: 'POST /v1/delegations/{id}/users p99 (ms, median)',
      mandate: `${p(runs.mandatePost, 'p99')} (p50 ${p(runs.mandatePost, 'p50')})`,
      baseline: `${p(bareRuns.post, 'p99')} (p50 ${p(bareRuns.post, 'p50')})`,
      ratio: '—',
      target: '—',
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const rows = await benchApi();
  console.log(renderTable(rows));
  console.log(`(${fmt((performance.now() - started) / 1000)} s)`);
}
