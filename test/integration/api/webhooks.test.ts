import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, createTestStaff, readProblem } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** /v1/webhooks: registering endpoints, who may, what is refused, secrets, tests and deliveries. */
let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;

// A public address that needs no DNS; no workers run here, so nothing is ever sent to it.
const publicUrl = 'https://8.8.8.8/hooks/mandate';

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack);
});
afterAll(() => stack.close());

interface Endpoint {
  id: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  previousSecretUntil: string | null;
  secret?: string;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
}

const endpointCount = async (partnerId = owner.partnerId) =>
  Number(
    (await stack.deps.sql`select count(*)::int as n from webhook_endpoints where partner_id = ${partnerId}`)[0]?.n,
  );

async function register(token: string, body: Record<string, unknown> = {}) {
  const response = await stack.request('/v1/webhooks', {
    method: 'POST',
    token,
    json: { url: publicUrl, events: ['delegation.accepted', 'operation.failed'], ...body },
  });
  expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
  return (await response.json()) as Endpoint & { secret: string };
}

describe('registering an endpoint', () => {
  it('answers 201 with a whsec_ secret shown once; listing and reading never show it', async () => {
    const made = await register(owner.token, { description: 'Ticketing' });
    expect(made.id).toMatch(/^whe_[0-9a-f]{32}$/);
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(made.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(made).toMatchObject({
      url: publicUrl,
      description: 'Ticketing',
      events: ['delegation.accepted', 'operation.failed'],
      enabled: true,
      disabledReason: null,
      previousSecretUntil: null,
    });

    const list = await stack.request('/v1/webhooks', { token: owner.token });
    expect(list.status).toBe(200);
    const listText = await list.text();
    expect(listText).not.toContain(made.secret);
    expect(listText).not.toContain('"secret"');
    expect((JSON.parse(listText) as { items: Endpoint[] }).items.map((e) => e.id)).toContain(made.id);

    const one = await stack.request(`/v1/webhooks/${made.id}`, { token: owner.token });
    expect(one.status).toBe(200);
    const oneText = await one.text();
    expect(oneText).not.toContain(made.secret);
    expect(JSON.parse(oneText)).not.toHaveProperty('secret');
    // Stored sealed, never as given.
    const [row] = await stack.deps.sql`select secret_sealed from webhook_endpoints where id = ${made.id}`;
    expect(String(row?.secret_sealed)).not.toContain(made.secret.slice(6));
  });

  it.each([
    ['a loopback http URL', 'WEBHOOK_URL_REFUSED', { url: 'http://127.0.0.1:8080/hook' }],
    ['https://localhost/', 'WEBHOOK_URL_REFUSED', { url: 'https://localhost/' }],
    ['a private address', 'WEBHOOK_URL_REFUSED', { url: 'https://10.1.2.3/hook' }],
    ['not a URL', 'WEBHOOK_URL_REFUSED', { url: 'not a url' }],
    ['an unknown event type', 'VALIDATION_FAILED', { events: ['delegation.accepted', 'delegation.exploded'] }],
    ['webhook.test as a subscription', 'VALIDATION_FAILED', { events: ['webhook.test'] }],
    ['no event', 'VALIDATION_FAILED', { events: [] }],
    ['an unknown field', 'VALIDATION_FAILED', { secret: 'whsec_mine' }],
  ])('%s → 422 %s, nothing written', async (_label, code, body) => {
    const before = await endpointCount();
    const response = await stack.request('/v1/webhooks', {
      method: 'POST',
      token: owner.token,
      json: { url: publicUrl, events: ['delegation.accepted'], ...body },
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect((await readProblem(response)).code).toBe(code);
    expect(await endpointCount()).toBe(before);
  });

  it('with the same Idempotency-Key twice, registers once; the repeat is told so, and the secret is kept nowhere', async () => {
    const key = `wh-${randomBytes(4).toString('hex')}`;
    const before = await endpointCount();
    const send = () =>
      stack.request('/v1/webhooks', {
        method: 'POST',
        token: owner.token,
        headers: { 'Idempotency-Key': key },
        json: { url: publicUrl, events: ['campaign.completed'] },
      });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    const { secret } = (await first.json()) as { secret: string };
    expect(second.status).toBe(409);
    expect((await readProblem(second)).code).toBe('CONFLICT');
    expect(await endpointCount()).toBe(before + 1);
    const kept = await stack.deps.sql`select count(*)::int as n from idempotency_keys
      where position(${secret.slice(6, 30)} in coalesce(body, '')) > 0`;
    expect(Number(kept[0]?.n)).toBe(0);
  });

  it('a rotation with an Idempotency-Key keeps no copy of the new secret', async () => {
    const made = await register(owner.token);
    const key = `rot-${randomBytes(4).toString('hex')}`;
    const rotated = await stack.request(`/v1/webhooks/${made.id}/rotate-secret`, {
      method: 'POST',
      token: owner.token,
      headers: { 'Idempotency-Key': key },
    });
    expect(rotated.status).toBe(200);
    const { secret } = (await rotated.json()) as { secret: string };
    const kept = await stack.deps.sql`select count(*)::int as n from idempotency_keys
      where position(${secret.slice(6, 30)} in coalesce(body, '')) > 0`;
    expect(Number(kept[0]?.n)).toBe(0);
  });
});

describe('who may', () => {
  it('staff who are not owners → 403 NOT_AUTHORIZED, reading included', async () => {
    const staff = await createTestStaff(stack, owner.partnerId, ['global_admin']);
    const made = await register(owner.token);
    const before = await endpointCount();
    const create = await stack.request('/v1/webhooks', {
      method: 'POST',
      token: staff,
      json: { url: publicUrl, events: ['delegation.accepted'] },
    });
    expect(create.status).toBe(403);
    expect((await readProblem(create)).code).toBe('NOT_AUTHORIZED');
    expect(await endpointCount()).toBe(before);
    const list = await stack.request('/v1/webhooks', { token: staff });
    expect(list.status).toBe(403);
    expect((await readProblem(list)).code).toBe('NOT_AUTHORIZED');
    const one = await stack.request(`/v1/webhooks/${made.id}`, { token: staff });
    expect(one.status).toBe(403);
  });

  it('an owner token without webhooks:write may read but not change (403 INSUFFICIENT_SCOPE)', async () => {
    const made = await register(owner.token);
    const created = await stack.request('/v1/tokens', {
      method: 'POST',
      token: owner.token,
      json: { name: 'reader', scopes: ['read'] },
    });
    expect(created.status).toBe(201);
    const reader = ((await created.json()) as { token: string }).token;
    expect((await stack.request(`/v1/webhooks/${made.id}`, { token: reader })).status).toBe(200);
    const before = await endpointCount();
    const writes: [string, string, unknown][] = [
      ['POST', '/v1/webhooks', { url: publicUrl, events: ['delegation.accepted'] }],
      ['PATCH', `/v1/webhooks/${made.id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${made.id}`, undefined],
      ['POST', `/v1/webhooks/${made.id}/rotate-secret`, undefined],
      ['POST', `/v1/webhooks/${made.id}/test`, undefined],
    ];
    for (const [method, path, json] of writes) {
      const response = await stack.request(path, { method, token: reader, ...(json ? { json } : {}) });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect((await readProblem(response)).code).toBe('INSUFFICIENT_SCOPE');
    }
    expect(await endpointCount()).toBe(before);
    const [row] = await stack.deps
      .sql`select enabled, previous_secret_until from webhook_endpoints where id = ${made.id}`;
    expect(row).toMatchObject({ enabled: true, previous_secret_until: null });
  });

  it("another partner's webhook → 404 on every route, nothing changed", async () => {
    const made = await register(owner.token);
    const other = await createTestPartner(stack);
    const [delivery] = await stack.deps.sql`
      insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload, state)
      values (${`whd_${randomBytes(16).toString('hex')}`}, ${made.id}, ${owner.partnerId}, 'evt_x', 'webhook.test', '{}', 'failed')
      returning id`;
    const calls: [string, string, unknown][] = [
      ['GET', `/v1/webhooks/${made.id}`, undefined],
      ['PATCH', `/v1/webhooks/${made.id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${made.id}`, undefined],
      ['POST', `/v1/webhooks/${made.id}/rotate-secret`, undefined],
      ['POST', `/v1/webhooks/${made.id}/test`, undefined],
      ['GET', `/v1/webhooks/${made.id}/deliveries`, undefined],
      ['GET', `/v1/webhooks/${made.id}/deliveries/${delivery?.id}`, undefined],
      ['POST', `/v1/webhooks/${made.id}/deliveries/${delivery?.id}/redeliver`, undefined],
    ];
    for (const [method, path, json] of calls) {
      const response = await stack.request(path, { method, token: other.token, ...(json ? { json } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await readProblem(response)).code).toBe('NOT_FOUND');
    }
    const list = (await (await stack.request('/v1/webhooks', { token: other.token })).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const [row] = await stack.deps.sql`select enabled from webhook_endpoints where id = ${made.id}`;
    expect(row?.enabled).toBe(true);
    const [n] = await stack.deps.sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${made.id}`;
    expect(n?.n).toBe(1);
  });
});

describe('changing an endpoint', () => {
  it('PATCH turns it off and on again, and changes events and description', async () => {
    const made = await register(owner.token);
    await stack.deps.sql`update webhook_endpoints set failed_in_a_row = 5 where id = ${made.id}`;
    const off = await stack.request(`/v1/webhooks/${made.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { enabled: false },
    });
    expect(off.status).toBe(200);
    const offBody = (await off.json()) as Endpoint;
    expect(offBody.enabled).toBe(false);
    expect(offBody.disabledReason).toBeTruthy();

    const on = await stack.request(`/v1/webhooks/${made.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { enabled: true, events: ['delegation.expired', 'delegation.terminated'], description: 'New' },
    });
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({
      enabled: true,
      disabledReason: null,
      description: 'New',
      // In the table's order, whatever the order asked.
      events: ['delegation.terminated', 'delegation.expired'],
    });
    const [row] = await stack.deps.sql`select failed_in_a_row from webhook_endpoints where id = ${made.id}`;
    expect(row?.failed_in_a_row).toBe(0);
  });

  it('PATCH refuses a private URL (422 WEBHOOK_URL_REFUSED) and an empty change, keeping the endpoint as it was', async () => {
    const made = await register(owner.token);
    const refused = await stack.request(`/v1/webhooks/${made.id}`, {
      method: 'PATCH',
      token: owner.token,
      json: { url: 'https://192.168.1.10/hook' },
    });
    expect(refused.status).toBe(422);
    expect((await readProblem(refused)).code).toBe('WEBHOOK_URL_REFUSED');
    const empty = await stack.request(`/v1/webhooks/${made.id}`, { method: 'PATCH', token: owner.token, json: {} });
    expect(empty.status).toBe(422);
    const [row] = await stack.deps.sql`select url from webhook_endpoints where id = ${made.id}`;
    expect(row?.url).toBe(publicUrl);
  });

  it('rotating returns a new secret and until when the old one still signs', async () => {
    const made = await register(owner.token);
    const rotated = await stack.request(`/v1/webhooks/${made.id}/rotate-secret`, {
      method: 'POST',
      token: owner.token,
    });
    expect(rotated.status).toBe(200);
    const body = (await rotated.json()) as Endpoint & { secret: string };
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(made.secret);
    const hours = (Date.parse(body.previousSecretUntil ?? '') - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThan(24.1);
    const again = (await (await stack.request(`/v1/webhooks/${made.id}`, { token: owner.token })).json()) as Endpoint;
    expect(again.previousSecretUntil).toBe(body.previousSecretUntil);
    expect(again).not.toHaveProperty('secret');
  });

  it('DELETE removes it and its deliveries', async () => {
    const made = await register(owner.token);
    expect((await stack.request(`/v1/webhooks/${made.id}/test`, { method: 'POST', token: owner.token })).status).toBe(
      202,
    );
    const deleted = await stack.request(`/v1/webhooks/${made.id}`, { method: 'DELETE', token: owner.token });
    expect(deleted.status).toBe(204);
    expect((await stack.request(`/v1/webhooks/${made.id}`, { token: owner.token })).status).toBe(404);
    const [n] = await stack.deps.sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${made.id}`;
    expect(n?.n).toBe(0);
  });
});

describe('tests and deliveries', () => {
  it('a test → 202 with a pending webhook.test delivery, readable with its payload', async () => {
    const made = await register(owner.token);
    const response = await stack.request(`/v1/webhooks/${made.id}/test`, { method: 'POST', token: owner.token });
    expect(response.status).toBe(202);
    const sent = (await response.json()) as { deliveryId: string; eventId: string };
    expect(sent.deliveryId).toMatch(/^whd_/);
    expect(sent.eventId).toMatch(/^evt_/);
    const [row] = await stack.deps
      .sql`select state, event_type, event_id from webhook_deliveries where id = ${sent.deliveryId} and endpoint_id = ${made.id}`;
    expect(row).toMatchObject({ state: 'pending', event_type: 'webhook.test', event_id: sent.eventId });

    const one = await stack.request(`/v1/webhooks/${made.id}/deliveries/${sent.deliveryId}`, { token: owner.token });
    expect(one.status).toBe(200);
    const detail = (await one.json()) as Delivery & { payload: Record<string, unknown> };
    expect(detail).toMatchObject({ id: sent.deliveryId, eventId: sent.eventId, state: 'pending', attempts: 0 });
    expect(detail.nextAttemptAt).not.toBeNull();
    expect(detail.payload).toMatchObject({ id: sent.eventId, type: 'webhook.test', partnerId: owner.partnerId });

    // Still being tried: a redelivery now is refused.
    const redeliver = await stack.request(`/v1/webhooks/${made.id}/deliveries/${sent.deliveryId}/redeliver`, {
      method: 'POST',
      token: owner.token,
    });
    expect(redeliver.status).toBe(409);
    expect((await readProblem(redeliver)).code).toBe('CONFLICT');
  });

  it('test events are limited per endpoint (30 an hour): the next is 429 RATE_LIMITED and queues nothing', async () => {
    const made = await register(owner.token);
    for (let i = 0; i < 30; i++) {
      const ok = await stack.request(`/v1/webhooks/${made.id}/test`, { method: 'POST', token: owner.token });
      expect(ok.status).toBe(202);
    }
    const refused = await stack.request(`/v1/webhooks/${made.id}/test`, { method: 'POST', token: owner.token });
    expect(refused.status).toBe(429);
    expect((await readProblem(refused)).code).toBe('RATE_LIMITED');
    const [row] = await stack.deps
      .sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${made.id}`;
    expect(Number(row?.n)).toBe(30);
  });

  it('lists deliveries newest first, page by page, filtered by state; redelivers a failed one', async () => {
    const made = await register(owner.token);
    const ids: string[] = [];
    const states = ['delivered', 'failed', 'pending', 'failed', 'failed', 'delivered', 'failed'];
    for (const [i, state] of states.entries()) {
      const id = `whd_${randomBytes(16).toString('hex')}`;
      ids.push(id);
      await stack.deps.sql`
        insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload, state, attempts,
                                        last_status, response_excerpt, created_at)
        values (${id}, ${made.id}, ${owner.partnerId}, ${`evt_${i}`}, 'delegation.accepted',
                ${JSON.stringify({ id: `evt_${i}`, type: 'delegation.accepted' })}::jsonb, ${state},
                ${state === 'failed' ? 12 : 1}, ${state === 'failed' ? 500 : 200}, 'oops',
                now() - make_interval(mins => ${states.length - i}))`;
    }
    const failedIds = ids.filter((_, i) => states[i] === 'failed').reverse();

    const seen: Delivery[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `state=failed&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await stack.request(`/v1/webhooks/${made.id}/deliveries?${query}`, { token: owner.token });
      expect(page.status).toBe(200);
      const body = (await page.json()) as { items: Delivery[]; nextCursor: string | null };
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.map((d) => d.id)).toEqual(failedIds);
    expect(pages).toBe(2);
    expect(seen.every((d) => d.state === 'failed' && d.nextAttemptAt === null && d.attempts === 12)).toBe(true);

    const all = (await (
      await stack.request(`/v1/webhooks/${made.id}/deliveries?limit=100`, { token: owner.token })
    ).json()) as { items: Delivery[]; nextCursor: string | null };
    expect(all.items.map((d) => d.id)).toEqual([...ids].reverse());
    expect(all.nextCursor).toBeNull();

    const bad = await stack.request(`/v1/webhooks/${made.id}/deliveries?cursor=nonsense`, { token: owner.token });
    expect(bad.status).toBe(422);
    const badState = await stack.request(`/v1/webhooks/${made.id}/deliveries?state=lost`, { token: owner.token });
    expect(badState.status).toBe(422);

    const failed = failedIds[0] as string;
    const again = await stack.request(`/v1/webhooks/${made.id}/deliveries/${failed}/redeliver`, {
      method: 'POST',
      token: owner.token,
    });
    expect(again.status).toBe(202);
    const redelivery = (await again.json()) as Delivery & { redeliveryOf: string };
    expect(redelivery).toMatchObject({ state: 'pending', redeliveryOf: failed, eventType: 'delegation.accepted' });
    expect(redelivery.id).not.toBe(failed);
  });

  it('a malformed or unknown delivery id → 404', async () => {
    const made = await register(owner.token);
    for (const id of ['nope', `whd_${'0'.repeat(32)}`]) {
      const response = await stack.request(`/v1/webhooks/${made.id}/deliveries/${id}`, { token: owner.token });
      expect(response.status).toBe(404);
    }
  });
});
