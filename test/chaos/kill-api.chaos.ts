import { expect, it } from 'vitest';
import { createTestOffer, createTestPartner } from '../helpers/factories.ts';
import { freePort, type Service, startTsx, waitForHttp } from '../helpers/processes.ts';
import { chaosWorld, report, sleep } from './harness.ts';

/**
 * The API killed with -9 while 200 POSTs with Idempotency-Keys are in flight; the client
 * then retries every one that got no answer, with the same key, until it gets one. Each
 * request must have had exactly one effect — counted from the API's own listing, by the
 * campaign names the client chose.
 */
const world = chaosWorld({});
const TOTAL = 200;

it('kill -9 of the API during 200 keyed POSTs, retried with the same keys: every request took effect once', async () => {
  const { stack } = world;
  const started = Date.now();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = world.env({ PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: base, IDEMPOTENCY_LEASE_SECONDS: '2' });
  const api = (): Service => startTsx('bin/api.ts', env);
  const partner = await createTestPartner(stack);
  const offer = await createTestOffer(stack, partner.token);

  const post = (i: number) =>
    fetch(`${base}/v1/campaigns`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${partner.token}`,
        'content-type': 'application/json',
        'idempotency-key': `kill-api-${i}`,
      },
      body: JSON.stringify({
        offerId: offer.id,
        name: `kill-api-${i}`,
        recipients: [{ email: `k${i}@client.example` }],
      }),
    });

  let server = api();
  await waitForHttp(`${base}/healthz`, 30_000, server);
  const answers = new Map<number, number>();
  const inFlight = Array.from({ length: TOTAL }, (_, i) =>
    post(i)
      .then((r) => answers.set(i, r.status))
      .catch(() => undefined),
  );
  // Kill it once some of them have taken effect and the rest are on their way.
  for (let n = 0; n < 200; n++) {
    const [row] = await stack.deps
      .sql`select count(*)::int as n from campaigns where partner_id = ${partner.partnerId}`;
    if ((row?.n ?? 0) >= 20) break;
    await sleep(10);
  }
  await server.stop('SIGKILL');
  await Promise.all(inFlight);
  const answeredBeforeKill = [...answers.values()].filter((s) => s === 202).length;

  server = api();
  await waitForHttp(`${base}/healthz`, 30_000, server);
  const lostAnswers: number[] = [];
  for (let i = 0; i < TOTAL; i++) {
    if (answers.get(i) === 202) continue;
    for (let attempt = 0; ; attempt++) {
      const response = await post(i);
      if (response.status === 202) break;
      const problem = (await response.json()) as { code?: string };
      if (response.status === 409 && problem.code === 'IDEMPOTENT_RESPONSE_LOST') {
        lostAnswers.push(i);
        break;
      }
      // Still in progress (the dead request's lease): try again shortly.
      expect(response.status, JSON.stringify(problem)).toBe(409);
      expect(attempt).toBeLessThan(100);
      await sleep(200);
    }
  }
  await server.stop('SIGTERM');

  const names = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const page = (await (
      await stack.request(`/v1/campaigns?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { token: partner.token })
    ).json()) as { items: { name: string }[]; nextCursor: string | null };
    for (const c of page.items) names.set(c.name, (names.get(c.name) ?? 0) + 1);
    cursor = page.nextCursor;
  } while (cursor);
  const wanted = Array.from({ length: TOTAL }, (_, i) => `kill-api-${i}`);
  const done = wanted.filter((n) => names.has(n)).length;
  const duplicates = wanted.reduce((sum, n) => sum + Math.max(0, (names.get(n) ?? 0) - 1), 0);
  report(
    `kill -9 API during ${TOTAL} keyed POSTs (answered before: ${answeredBeforeKill}, answer lost: ${lostAnswers.length})`,
    { asked: TOTAL, delivered: done, duplicates, lost: TOTAL - done },
    started,
  );
  expect(duplicates).toBe(0);
  expect(done).toBe(TOTAL);
  expect(answeredBeforeKill).toBeLessThan(TOTAL);
}, 150_000);
