import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../../api/server.ts';
import { createTestOffer, createTestPartner, readProblem, rowCounts, waitFor } from '../../helpers/factories.ts';
import { type FaultProxy, startFaultProxy } from '../../helpers/fault-proxy.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The API served on a real socket, reaching PostgreSQL and Redis through fault proxies.
 * Whatever the path does (a partition, a reset, a refusal), every request answers within
 * its bound — 503 with a stable code when it cannot do its work, and then having changed
 * nothing — and the same process serves again once the path heals.
 *
 * The bounds are short here so the file runs in seconds; production's are the defaults.
 */
const BOUNDS = {
  DATABASE_API_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_API_LOCK_TIMEOUT_MS: '500',
  DATABASE_API_REPLY_TIMEOUT_MS: '2000',
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
  REDIS_API_COMMAND_TIMEOUT_MS: '1000',
  REQUEST_TIMEOUT_MS: '4000',
  IDEMPOTENCY_LEASE_SECONDS: '2',
};
/** The longest a request may take: its deadline (REQUEST_TIMEOUT_MS), and slack for a busy machine. */
const REQUEST_BOUND_MS = 4000 + 1500;

let direct: TestStack;
let cut: TestStack;
let server: RunningServer;
let postgres: FaultProxy;
let redis: FaultProxy;
let token: string;
let offerId: string;

beforeAll(async () => {
  direct = await createTestStack();
  postgres = await startFaultProxy(direct.config.databaseUrl);
  redis = await startFaultProxy(direct.config.redisUrl);
  cut = await createTestStack({
    database: direct.database,
    env: {
      ...BOUNDS,
      DATABASE_URL: postgres.through(direct.config.databaseUrl),
      REDIS_URL: redis.through(direct.config.redisUrl),
      QUEUE_PREFIX: direct.config.queuePrefix,
    },
  });
  server = await startServer(cut.app, { host: '127.0.0.1', port: 0 });
  ({ token } = await createTestPartner(direct));
  offerId = (await createTestOffer(direct, token)).id;
});

afterAll(async () => {
  postgres?.set('pass');
  redis?.set('pass');
  await server?.close();
  await cut?.close();
  await direct?.close();
  await postgres?.close();
  await redis?.close();
});

/** A request over the socket, given up by the client at twice the bound (a hang shows as a failure, not a stuck file). */
async function timed(path: string, init: { method?: string; json?: unknown; key?: string } = {}) {
  const started = performance.now();
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.key ? { 'idempotency-key': init.key } : {}),
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    signal: AbortSignal.timeout(2 * REQUEST_BOUND_MS),
  });
  return { response, ms: performance.now() - started };
}

let n = 0;
const newCampaign = () => ({ offerId, recipients: [{ email: `cut-${++n}@client.example` }] });

const listDelegations = () => timed('/v1/delegations');
const createCampaign = () => timed('/v1/campaigns', { method: 'POST', json: newCampaign() });

/** Waits until the API answers `request` with `status` again (the pool reconnects on its own). */
const healed = (request: () => Promise<{ response: Response }>, status: number) =>
  waitFor(async () => (await request()).response.status === status, 3 * REQUEST_BOUND_MS);

async function expectUnavailable(request: () => Promise<{ response: Response; ms: number }>, codes: string[]) {
  const { response, ms } = await request();
  expect(ms).toBeLessThan(REQUEST_BOUND_MS);
  expect(response.status).toBe(503);
  const problem = await readProblem(response);
  expect(codes).toContain(problem.code);
  expect(response.headers.get('retry-after')).toBeTruthy();
  return ms;
}

describe('PostgreSQL partitioned from the API', () => {
  it('a read and a write answer 503 within the bound, the write changes nothing, /readyz says not ready; all serve again after', async () => {
    // Connections open in the pool: the cut comes between a query and its answer.
    expect((await listDelegations()).response.status).toBe(200);
    const before = await rowCounts(direct);
    postgres.set('blackhole');
    try {
      await expectUnavailable(listDelegations, ['DATABASE_TIMEOUT']);
      await expectUnavailable(createCampaign, ['DATABASE_TIMEOUT']);
      const ready = await timed('/readyz');
      expect(ready.ms).toBeLessThan(REQUEST_BOUND_MS);
      expect(ready.response.status).toBe(503);
      expect(((await ready.response.json()) as { checks: { postgres: { ok: boolean } } }).checks.postgres.ok).toBe(
        false,
      );
    } finally {
      postgres.set('pass');
    }
    await healed(listDelegations, 200);
    // What the cut requests sent and the proxy held crossed when it healed: none of it may
    // have written anything (the abandoned connections were closed, their work with them).
    await new Promise((r) => setTimeout(r, 1000));
    expect(await rowCounts(direct)).toEqual(before);
    expect((await createCampaign()).response.status).toBe(202);
    expect((await timed('/readyz')).response.status).toBe(200);
  });

  it('one-way (queries arrive, answers do not): a keyed write answers 503 within the bound; retried with its key, it takes effect once', async () => {
    expect((await listDelegations()).response.status).toBe(200);
    const key = `one-way-${Date.now()}`;
    const post = () => timed('/v1/campaigns', { method: 'POST', json: { ...newCampaign(), name: key }, key });
    postgres.set('one-way');
    try {
      await expectUnavailable(post, ['DATABASE_TIMEOUT', 'DEPENDENCY_UNAVAILABLE', 'DEADLINE_EXCEEDED']);
    } finally {
      postgres.set('pass');
    }
    // Whether the cut request's work reached a COMMIT is the server's to know: the key settles it.
    const settled = await waitFor(async () => {
      const { response } = await post();
      if (response.status === 202) return 'accepted';
      const { code } = (await response.json()) as { code?: string };
      return code === 'IDEMPOTENT_RESPONSE_LOST' ? 'answer lost' : undefined;
    }, 6 * REQUEST_BOUND_MS);
    expect(['accepted', 'answer lost']).toContain(settled);
    const [row] = await direct.deps.sql`select count(*)::int as n from campaigns where name = ${key}`;
    expect(row?.n).toBe(1);
  });

  it('reset: the open connections die, the next requests reconnect and succeed', async () => {
    expect((await listDelegations()).response.status).toBe(200);
    postgres.set('reset');
    const { response, ms } = await listDelegations();
    expect(ms).toBeLessThan(REQUEST_BOUND_MS);
    expect([200, 503]).toContain(response.status);
    await healed(listDelegations, 200);
  });

  it('refused: requests answer 503 DEPENDENCY_UNAVAILABLE at once; they succeed once it accepts again', async () => {
    postgres.set('refuse');
    try {
      const ms = await expectUnavailable(listDelegations, ['DEPENDENCY_UNAVAILABLE']);
      expect(ms).toBeLessThan(1500);
    } finally {
      postgres.set('pass');
    }
    await healed(listDelegations, 200);
  });
});

describe('Redis partitioned from the API', () => {
  it('a campaign is recorded and answered within the bound (the reconciler enqueues it later); /readyz says not ready; ready again after', async () => {
    redis.set('blackhole');
    let id: string;
    try {
      const { response, ms } = await createCampaign();
      expect(ms).toBeLessThan(REQUEST_BOUND_MS);
      expect(response.status).toBe(202);
      ({ id } = (await response.json()) as { id: string });
      const ready = await timed('/readyz');
      expect(ready.ms).toBeLessThan(REQUEST_BOUND_MS);
      expect(ready.response.status).toBe(503);
      expect((await listDelegations()).response.status, 'reads need no Redis').toBe(200);
    } finally {
      redis.set('pass');
    }
    // The row is the truth, the queue only its wake-up.
    const [row] = await direct.deps.sql`select id from campaigns where id = ${id}`;
    expect(row).toBeDefined();
    await healed(() => timed('/readyz'), 200);
    expect((await createCampaign()).response.status).toBe(202);
  });

  it('refused: a campaign is still recorded and answered promptly', async () => {
    redis.set('refuse');
    try {
      const { response, ms } = await createCampaign();
      expect(ms).toBeLessThan(REQUEST_BOUND_MS);
      expect(response.status).toBe(202);
    } finally {
      redis.set('pass');
    }
    await healed(() => timed('/readyz'), 200);
  });
});
