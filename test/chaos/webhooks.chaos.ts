import { expect, it } from 'vitest';
import { subscribableEventTypes } from '../../core/webhook-events.ts';
import type { PartnerPrincipal } from '../../services/shared/principals.ts';
import { createWebhookEndpoint } from '../../services/webhooks/endpoints.ts';
import { recordWebhookEvents } from '../../services/webhooks/record.ts';
import { createTestPartner, waitFor } from '../helpers/factories.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { chaosWorld, report, sleep, type Tally } from './harness.ts';

/**
 * Webhooks under faults. Counted from the receiver alone (independent evidence): each event
 * carries its number in its data; an event counts as delivered when a request verified
 * with the endpoint's secret carrying it was answered 2xx.
 */
const webhookEnv = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCALE: '0.005', WEBHOOK_TIMEOUT_MS: '2000' };
const world = chaosWorld({ stackEnv: () => webhookEnv });
const receivers: WebhookReceiver[] = [];

async function setup(scenario: string, n: number, options: Parameters<typeof startWebhookReceiver>[0] = {}) {
  const { stack } = world;
  const receiver = await startWebhookReceiver(options);
  receivers.push(receiver);
  const partner = await createTestPartner(stack);
  const principal: PartnerPrincipal = { ...partner, isOwner: true, roles: [], tokenId: null, token: null };
  const endpoint = await createWebhookEndpoint(stack.deps, principal, {
    url: receiver.url,
    events: subscribableEventTypes,
  });
  receiver.secrets = [endpoint.secret];
  const record = () =>
    stack.deps.db.transaction((tx) =>
      recordWebhookEvents(
        tx,
        Array.from({ length: n }, (_, i) => ({
          type: 'operation.succeeded' as const,
          partnerId: partner.partnerId,
          data: { scenario, n: i },
        })),
      ),
    );
  return { receiver, endpointId: endpoint.id, record, n };
}

/** Event numbers answered 2xx, copies of each, and the webhook-ids each number came with. */
function count(receiver: WebhookReceiver, n: number): Tally & { idsPerEvent: Map<number, Set<string>> } {
  const delivered = new Map<number, number>();
  const idsPerEvent = new Map<number, Set<string>>();
  for (const r of receiver.requests) {
    if (!r.verified) continue;
    const i = Number(r.json?.data?.n);
    idsPerEvent.set(i, (idsPerEvent.get(i) ?? new Set()).add(r.id));
    if (r.status >= 200 && r.status < 300) delivered.set(i, (delivered.get(i) ?? 0) + 1);
  }
  const duplicates = [...delivered.values()].reduce((sum, c) => sum + c - 1, 0);
  return { asked: n, delivered: delivered.size, duplicates, lost: n - delivered.size, idsPerEvent };
}

async function allDelivered(receiver: WebhookReceiver, n: number, timeoutMs: number, endpointId: string) {
  await waitFor(async () => count(receiver, n).delivered === n, timeoutMs).catch(async (error) => {
    // Diagnosis only: the verdict is the receiver's.
    console.log(
      await world.stack.deps.sql`select state, attempts, last_error, count(*)::int from webhook_deliveries
        where endpoint_id = ${endpointId} group by 1, 2, 3 order by 1, 2`,
    );
    throw error;
  });
}

it('a receiver answering 500 to each delivery’s first three tries: every event delivered', async () => {
  const started = Date.now();
  const { receiver, record, n, endpointId } = await setup('fail-first', 60, {
    behaviour: { kind: 'fail-first', tries: 3 },
  });
  const worker = world.worker(webhookEnv);
  await record();
  await allDelivered(receiver, n, 90_000, endpointId);
  await sleep(1_000);
  const t = count(receiver, n);
  report('webhooks: 500 to the first 3 tries, 60 events', t, started);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
  // Each event: 3 refused tries and the delivered one, all with one webhook-id.
  for (const [i, ids] of t.idsPerEvent) expect(ids.size, `event ${i}`).toBe(1);
  expect(receiver.requests.filter((r) => r.status === 500)).toHaveLength(3 * n);
  await worker.stop('SIGKILL');
}, 120_000);

it('worker processes killed with -9 three times mid-delivery: every event delivered, duplicates keep their id', async () => {
  const started = Date.now();
  // A slow receiver, so each kill lands with tries in flight.
  const { receiver, record, n, endpointId } = await setup('kill', 80, { delayMs: 400 });
  await record();
  for (let k = 1; k <= 3; k++) {
    const worker = world.worker({ ...webhookEnv, WEBHOOK_CONCURRENCY: '4' });
    await waitFor(async () => receiver.requests.length >= 12 * k, 60_000);
    await worker.stop('SIGKILL');
  }
  const inFlightAtLastKill = receiver.requests.length;
  expect(count(receiver, n).delivered).toBeLessThan(n); // the kills did land mid-delivery
  world.worker(webhookEnv);
  await allDelivered(receiver, n, 120_000, endpointId);
  // Tries cut off by a kill go again once their lease ends: wait for those copies too.
  await waitFor(async () => {
    const [row] = await world.stack.deps.sql`select count(*)::int as n from webhook_deliveries
      where endpoint_id = ${endpointId} and state = 'pending'`;
    return row?.n === 0;
  }, 90_000);
  await sleep(1_000);
  const t = count(receiver, n);
  report('webhooks: kill -9 worker ×3, 80 events', t, started);
  // At most the tries in flight at each kill (WEBHOOK_CONCURRENCY 4) arrive twice.
  expect(t.duplicates).toBeLessThanOrEqual(3 * 4);
  expect(inFlightAtLastKill).toBeGreaterThanOrEqual(36);
  expect(t.lost).toBe(0);
  // A copy sent again (its answer never recorded) carries the same webhook-id.
  for (const [i, ids] of t.idsPerEvent) expect(ids.size, `event ${i}`).toBe(1);
}, 170_000);

it('the receiver down for 2 minutes, then back: every event delivered', async () => {
  const started = Date.now();
  const { receiver, record, n, endpointId } = await setup('down', 60);
  const worker = world.worker(webhookEnv);
  await receiver.down();
  await record();
  await sleep(120_000);
  expect(receiver.requests).toHaveLength(0);
  await receiver.up();
  await allDelivered(receiver, n, 60_000, endpointId);
  await sleep(1_000);
  const t = count(receiver, n);
  report('webhooks: receiver down 2 min, 60 events', t, started);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
  for (const [i, ids] of t.idsPerEvent) expect(ids.size, `event ${i}`).toBe(1);
  await worker.stop('SIGKILL');
  for (const r of receivers) await r.close();
}, 200_000);
