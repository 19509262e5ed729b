import { expect, it } from 'vitest';
import { createTestOffer, createTestPartner } from '../helpers/factories.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { freePort, type Service, startTsx, waitForHttp } from '../helpers/processes.ts';
import { chaosWorld, report, sleep, tally, waitUntilDelivered } from './harness.ts';

/**
 * A real API process reaches PostgreSQL and Redis through fault proxies (the worker reaches
 * them directly). Clients post keyed one-recipient campaigns all along, retrying each with
 * its key until it is accepted, while PostgreSQL and then Redis are cut off from the API for
 * 20 s each, then reset and refused briefly. No request may take longer than its deadline;
 * every campaign is delivered once; the same API process serves throughout.
 */
const proxies: Record<'postgres' | 'redis', FaultProxy> = {} as never;
const world = chaosWorld({
  after: async () => {
    for (const proxy of Object.values(proxies)) await proxy?.close();
  },
});
const CUT_MS = 20_000;
const CLIENTS = 4;
/** Short bounds so the scenario runs in a minute or two; their relations are the defaults'. */
const BOUNDS = {
  DATABASE_API_STATEMENT_TIMEOUT_MS: '3000',
  DATABASE_API_REPLY_TIMEOUT_MS: '8000',
  DATABASE_CONNECT_TIMEOUT_MS: '2000',
  REDIS_API_COMMAND_TIMEOUT_MS: '2000',
  REQUEST_TIMEOUT_MS: '10000',
};
const REQUEST_BOUND_MS = 10_000 + 2_000;

it('PostgreSQL and Redis each partitioned 20 s from a real API process under keyed POSTs: every request answers within its bound, nothing lost, the process serves again', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  proxies.postgres = await startFaultProxy(stack.config.databaseUrl);
  proxies.redis = await startFaultProxy(stack.config.redisUrl);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api: Service = startTsx(
    'bin/api.ts',
    world.env({
      ...BOUNDS,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      IDEMPOTENCY_LEASE_SECONDS: '2',
      DATABASE_URL: proxies.postgres.through(stack.config.databaseUrl),
      REDIS_URL: proxies.redis.through(stack.config.redisUrl),
    }),
  );
  world.worker();
  await waitForHttp(`${base}/healthz`, 30_000, api);
  const partner = await createTestPartner(stack);
  const offer = await createTestOffer(stack, partner.token);

  const statuses = new Map<string, number>();
  let slowest = 0;
  /** One campaign, posted with its key until accepted (or until its answer is known to be lost). */
  const postUntilAccepted = async (email: string) => {
    for (let attempt = 0; ; attempt++) {
      const sent = performance.now();
      let status: number;
      let code: string | undefined;
      try {
        const response = await fetch(`${base}/v1/campaigns`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${partner.token}`,
            'content-type': 'application/json',
            'idempotency-key': email,
          },
          body: JSON.stringify({ offerId: offer.id, name: email, recipients: [{ email }] }),
          signal: AbortSignal.timeout(60_000),
        });
        status = response.status;
        code = ((await response.json()) as { code?: string }).code;
      } catch (error) {
        throw new Error(`no answer after ${Math.round(performance.now() - sent)} ms: ${error}`);
      }
      slowest = Math.max(slowest, performance.now() - sent);
      const key = code ? `${status} ${code}` : String(status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (status === 202 || code === 'IDEMPOTENT_RESPONSE_LOST') return;
      // 503 (a dependency out of reach) or 409 (the key's earlier request still holds it).
      expect([503, 409], key).toContain(status);
      expect(attempt).toBeLessThan(500);
      await sleep(250);
    }
  };

  const emails: string[] = [];
  let running = true;
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; running; i++) {
      const email = `apicut-${c}-${i}@client.example`;
      emails.push(email);
      await postUntilAccepted(email);
    }
  });

  await sleep(3_000);
  for (const name of ['postgres', 'redis'] as const) {
    proxies[name].set('blackhole');
    await sleep(CUT_MS);
    proxies[name].set('pass');
    await sleep(3_000);
    proxies[name].set('reset');
    await sleep(2_000);
    proxies[name].set('refuse');
    await sleep(2_000);
    proxies[name].set('pass');
    await sleep(3_000);
  }
  running = false;
  await Promise.all(clients);

  await waitUntilDelivered(sink, emails, emails.length, 90_000);
  const t = tally(sink, emails);
  const answers = [...statuses].map(([k, n]) => `${k}: ${n}`).join('; ');
  report(
    `API partitioned 20 s from PostgreSQL then Redis (+ reset, refuse), ${CLIENTS} clients of keyed POSTs; slowest answer ${Math.round(slowest)} ms; answers ${answers}`,
    t,
    started,
  );
  expect(api.child.exitCode, api.output()).toBeNull();
  expect(slowest).toBeLessThan(REQUEST_BOUND_MS);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
  await api.stop('SIGTERM');
}, 300_000);
