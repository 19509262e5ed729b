import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  subscribableEventTypes,
  WEBHOOK_DISABLE_AFTER_FAILURES,
  WEBHOOK_MAX_ATTEMPTS,
} from '../../../core/webhook-events.ts';
import { metricsRegistry } from '../../../lib/metrics.ts';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import type { PartnerPrincipal } from '../../../services/shared/principals.ts';
import { deliverWebhook, WebhookWaits } from '../../../services/webhooks/deliver.ts';
import {
  createWebhookEndpoint,
  redeliverWebhook,
  rotateWebhookSecret,
  sendWebhookTest,
} from '../../../services/webhooks/endpoints.ts';
import { recordTestEvent, recordWebhookEvents } from '../../../services/webhooks/record.ts';
import { createTestPartner, waitFor } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { startWebhookReceiver, verifies, type WebhookReceiver } from '../../helpers/webhook-receiver.ts';

let stack: TestStack;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  stack = await createTestStack({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1000' } });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(() => stack.close());

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const r = await startWebhookReceiver(...args);
  receivers.push(r);
  return r;
}

async function partnerWithEndpoint(url: string, events: readonly string[] = subscribableEventTypes) {
  const partner = await createTestPartner(stack);
  const principal: PartnerPrincipal = { ...partner, isOwner: true, roles: [], tokenId: null, token: null };
  const endpoint = await createWebhookEndpoint(stack.deps, principal, { url, events });
  return { partner, principal, endpoint };
}

/** One try, as the job makes it: the outcome, or the wait it asked for. */
async function tryOnce(deliveryId: string, deps = stack.deps) {
  try {
    return await deliverWebhook(deps, deliveryId, stack.deps.logger);
  } catch (error) {
    if (error instanceof WebhookWaits) return { outcome: 'waits' as const, reason: error.message };
    throw error;
  }
}

async function row(id: string) {
  const [r] = await stack.deps.sql`select * from webhook_deliveries where id = ${id}`;
  return r as Record<string, unknown>;
}
async function endpointRow(id: string) {
  const [r] = await stack.deps.sql`select * from webhook_endpoints where id = ${id}`;
  return r as Record<string, unknown>;
}

/** The delivery counter's value for one outcome, as /metrics shows it. */
async function counted(outcome: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('mandate_webhook_deliveries_total')?.get();
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('delivering', () => {
  it('counts every try by outcome in mandate_webhook_deliveries_total', async () => {
    const hook = await receiver({ behaviour: { kind: 'fail-first', tries: 1 } });
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    const before = { delivered: await counted('delivered'), retrying: await counted('retrying') };
    const { deliveryId } = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'waits' });
    await stack.deps.sql`update webhook_deliveries set next_attempt_at = now() where id = ${deliveryId}`;
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'delivered' });
    expect(await counted('retrying')).toBe(before.retrying + 1);
    expect(await counted('delivered')).toBe(before.delivered + 1);
  });

  it('a 410 fails the delivery, turns the endpoint off and writes its owners an email', async () => {
    const hook = await receiver({ behaviour: { kind: 'status', status: 410 } });
    const { partner, principal, endpoint } = await partnerWithEndpoint(hook.url);
    const { deliveryId } = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'failed' });
    expect(hook.requests).toHaveLength(1);
    expect(await row(deliveryId)).toMatchObject({ state: 'failed', last_status: 410 });
    const off = await endpointRow(endpoint.id);
    expect(off.enabled).toBe(false);
    expect(String(off.disabled_reason)).toContain('410');
    const mails = await stack.deps.sql`select to_email from emails where kind = 'webhook_disabled'
      and lower(to_email) = lower(${partner.email})`;
    expect(mails).toHaveLength(1);
  });

  it(`${WEBHOOK_DISABLE_AFTER_FAILURES} deliveries in a row failed for good turn the endpoint off`, async () => {
    const hook = await receiver({ behaviour: { kind: 'status', status: 500 } });
    const { partner, endpoint } = await partnerWithEndpoint(hook.url, ['operation.failed']);
    const events = Array.from({ length: WEBHOOK_DISABLE_AFTER_FAILURES }, (_, i) => ({
      type: 'operation.failed' as const,
      partnerId: partner.partnerId,
      data: { i },
    }));
    await stack.deps.db.transaction((tx) => recordWebhookEvents(tx, events));
    // Each on its last try already.
    await stack.deps.sql`update webhook_deliveries set attempts = ${WEBHOOK_MAX_ATTEMPTS - 1}, dispatched = true
      where endpoint_id = ${endpoint.id}`;
    const ids = (
      await stack.deps.sql`select id from webhook_deliveries where endpoint_id = ${endpoint.id} order by created_at, id`
    ).map((r) => r.id as string);
    expect(ids).toHaveLength(WEBHOOK_DISABLE_AFTER_FAILURES);
    for (const [i, id] of ids.entries()) {
      expect(await tryOnce(id)).toMatchObject({ outcome: 'failed' });
      const e = await endpointRow(endpoint.id);
      expect(e.failed_in_a_row).toBe(i + 1);
      expect(e.enabled).toBe(i + 1 < WEBHOOK_DISABLE_AFTER_FAILURES);
    }
    expect(hook.requests).toHaveLength(WEBHOOK_DISABLE_AFTER_FAILURES);
    expect(String((await endpointRow(endpoint.id)).disabled_reason)).toContain('in a row');
    const mails = await stack.deps.sql`select id from emails where kind = 'webhook_disabled'
      and lower(to_email) = lower(${partner.email})`;
    expect(mails).toHaveLength(1);
  });

  it('a try that is not the last waits for the next; a delivered one sets the count back', async () => {
    const hook = await receiver({ behaviour: { kind: 'fail-first', tries: 1 } });
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    await stack.deps.sql`update webhook_endpoints set failed_in_a_row = 5 where id = ${endpoint.id}`;
    const { deliveryId } = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'waits' });
    expect(await row(deliveryId)).toMatchObject({ state: 'pending', attempts: 1, last_status: 500 });
    await stack.deps.sql`update webhook_deliveries set next_attempt_at = now() where id = ${deliveryId}`;
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'delivered' });
    expect((await endpointRow(endpoint.id)).failed_in_a_row).toBe(0);
    expect(new Set(hook.requests.map((r) => r.id)).size).toBe(1);
  });

  it('signs with both secrets during the overlap after a rotation, then with the new one only', async () => {
    const hook = await receiver();
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    const oldSecret = endpoint.secret;
    const rotated = await rotateWebhookSecret(stack.deps, principal, endpoint.id);
    const newSecret = rotated.secret;
    expect(newSecret).not.toBe(oldSecret);

    const first = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(first.deliveryId)).toMatchObject({ outcome: 'delivered' });
    const during = hook.requests.at(-1);
    expect(during && verifies(oldSecret, during.body, during.headers)).toBe(true);
    expect(during && verifies(newSecret, during.body, during.headers)).toBe(true);

    await stack.deps.sql`update webhook_endpoints set previous_secret_until = now() - interval '1 second'
      where id = ${endpoint.id}`;
    const second = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(second.deliveryId)).toMatchObject({ outcome: 'delivered' });
    const after = hook.requests.at(-1);
    expect(after?.id).toBe(second.eventId);
    expect(after && verifies(oldSecret, after.body, after.headers)).toBe(false);
    expect(after && verifies(newSecret, after.body, after.headers)).toBe(true);
  });

  it('a second rotation within the overlap (a double click) keeps the secret the receiver holds signing', async () => {
    const hook = await receiver();
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    const original = endpoint.secret;
    const unseen = (await rotateWebhookSecret(stack.deps, principal, endpoint.id)).secret;
    const shown = (await rotateWebhookSecret(stack.deps, principal, endpoint.id)).secret;
    const sent = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(sent.deliveryId)).toMatchObject({ outcome: 'delivered' });
    const request = hook.requests.at(-1);
    for (const secret of [original, unseen, shown]) {
      expect(request && verifies(secret, request.body, request.headers)).toBe(true);
    }
    // A third drops the oldest: at most two rotated-out secrets sign beside the current one.
    const third = (await rotateWebhookSecret(stack.deps, principal, endpoint.id)).secret;
    const next = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(next.deliveryId)).toMatchObject({ outcome: 'delivered' });
    const later = hook.requests.at(-1);
    expect(later && verifies(original, later.body, later.headers)).toBe(false);
    for (const secret of [unseen, shown, third]) {
      expect(later && verifies(secret, later.body, later.headers)).toBe(true);
    }
  });

  it('a secret LINK_SECRET no longer opens fails the delivery at once, saying to rotate, and sends nothing', async () => {
    const hook = await receiver();
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    const { deliveryId } = await sendWebhookTest(stack.deps, principal, endpoint.id);
    const otherKey = { ...stack.deps, config: { ...stack.deps.config, linkSecret: 'x'.repeat(48) } };
    expect(await tryOnce(deliveryId, otherKey)).toMatchObject({ outcome: 'failed' });
    expect(hook.requests).toHaveLength(0);
    const failed = await row(deliveryId);
    expect(failed.state).toBe('failed');
    expect(String(failed.last_error)).toContain('rotate the secret');
  });

  it('a redelivery sends the same event: same webhook-id and body', async () => {
    const hook = await receiver();
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    hook.secrets = [endpoint.secret];
    const sent = await sendWebhookTest(stack.deps, principal, endpoint.id);
    await tryOnce(sent.deliveryId);
    const again = await redeliverWebhook(stack.deps, principal, endpoint.id, sent.deliveryId);
    expect(again.id).not.toBe(sent.deliveryId);
    expect(again.eventId).toBe(sent.eventId);
    expect(await tryOnce(again.id)).toMatchObject({ outcome: 'delivered' });
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests.every((r) => r.verified && r.id === sent.eventId)).toBe(true);
    expect(hook.requests[1]?.body).toBe(hook.requests[0]?.body);
  });

  it('a 302 to the metadata address is a failed try, with the reason, and is not followed', async () => {
    const metadata = 'http://169.254.169.254/latest/meta-data/';
    const hook = await receiver({ behaviour: { kind: 'status', status: 302, location: metadata } });
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    const { deliveryId } = await sendWebhookTest(stack.deps, principal, endpoint.id);
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'waits' });
    const r = await row(deliveryId);
    expect(r).toMatchObject({ state: 'pending', last_status: 302, attempts: 1 });
    expect(String(r.last_error)).toContain('redirects are not followed');
    expect(String(r.last_error)).toContain('169.254.169.254');
    expect(hook.requests).toHaveLength(1);
  });

  it('a receiver that never answers is a failed try within WEBHOOK_TIMEOUT_MS', async () => {
    const hook = await receiver({ behaviour: { kind: 'silent' } });
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    const { deliveryId } = await sendWebhookTest(stack.deps, principal, endpoint.id);
    const started = performance.now();
    expect(await tryOnce(deliveryId)).toMatchObject({ outcome: 'waits' });
    const ms = performance.now() - started;
    expect(stack.config.webhookTimeoutMs).toBe(1000);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(1000 + 1500);
    const r = await row(deliveryId);
    expect(r).toMatchObject({ state: 'pending', attempts: 1, last_status: null });
    expect(r.last_error).toBeTruthy();
    expect(hook.requests).toHaveLength(1);
  });
});

describe('the reconciler', () => {
  it('re-enqueues a due delivery whose job is gone', async () => {
    const hook = await receiver();
    const { principal, endpoint } = await partnerWithEndpoint(hook.url);
    hook.secrets = [endpoint.secret];
    await stack.startWorkers(); // their start-up reconciliation done before the delivery exists
    // Written already handed over (so no dispatcher takes it), due, but with no job: the queue lost it.
    const { deliveryId, eventId } = await stack.deps.db.transaction(async (tx) => {
      const sent = await recordTestEvent(tx, endpoint.id, principal.partnerId, { type: 'system', id: null });
      if (!sent) throw new Error('no delivery written');
      await tx.execute(sql`update webhook_deliveries set dispatched = true,
        next_attempt_at = now() - interval '10 seconds' where id = ${sent.deliveryId}`);
      return sent;
    });
    await new Promise((r) => setTimeout(r, 6_000)); // past a dispatcher poll
    expect(hook.requests).toHaveLength(0);
    const result = await reconcile(stack.deps, { minAgeSeconds: 1 });
    expect(result.webhooks).toBeGreaterThanOrEqual(1);
    await waitFor(async () => hook.requests.length > 0, 15_000);
    expect(hook.requests[0]?.id).toBe(eventId);
    expect(hook.requests[0]?.verified).toBe(true);
    await waitFor(async () => (await row(deliveryId)).state === 'delivered', 5_000);
  }, 40_000);
});
