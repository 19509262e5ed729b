import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../core/ids.ts';
import { createTestPartner, readProblem } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const createOffer = (token: string, key: string, name: string) =>
  stack.request('/v1/offers', {
    method: 'POST',
    token,
    headers: { 'idempotency-key': key },
    json: { name, access: 'limited' },
  });

describe('Idempotency-Key claims', () => {
  it('a key still held by a running request is answered 409, and a key past its 24 hours is free again', async () => {
    const partner = await createTestPartner(stack);
    const [user] = await stack.deps.sql`select id from users where email = ${partner.email}`;
    expect((await createOffer(partner.token, 'running', 'A')).status).toBe(201);
    // As if the first request were still running: claimed, no response stored yet.
    await stack.deps.sql`update idempotency_keys set status = null where key = 'running'`;
    const running = await createOffer(partner.token, 'running', 'A');
    expect(running.status).toBe(409);
    expect((await readProblem(running)).code).toBe('CONFLICT');

    await stack.deps.sql`
      insert into idempotency_keys (user_id, key, request_hash, status, body, created_at)
      values (${user?.id}, 'stale', 'x', 201, '{}', now() - interval '25 hours')`;
    const stale = await createOffer(partner.token, 'stale', 'B');
    expect(stale.status).toBe(201);
    expect(stale.headers.get('idempotent-replayed')).toBeNull();
    const [row] = await stack.deps.sql`
      select status, created_at > now() - interval '1 minute' as renewed
      from idempotency_keys where user_id = ${user?.id} and key = 'stale'`;
    expect(row).toEqual({ status: 201, renewed: true });
  });

  it("keys are per user: another user's key of the same name is not a repeat", async () => {
    const first = await createTestPartner(stack);
    const second = await createTestPartner(stack);
    expect((await createOffer(first.token, 'same', 'C')).status).toBe(201);
    const other = await createOffer(second.token, 'same', 'D');
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('a claim left behind by a request that died', () => {
  const campaign = (token: string, key: string, offerId: string, email: string) =>
    stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      headers: { 'idempotency-key': key },
      json: { offerId, recipients: [{ email }] },
    });
  const campaignsOf = async (token: string) =>
    ((await (await stack.request('/v1/campaigns', { token })).json()) as { items: { id: string }[] }).items;

  it('is taken over once its lease is past when its request took no effect: the retry runs, once', async () => {
    const partner = await createTestPartner(stack);
    const offer = (await (await createOffer(partner.token, 'offer-1', 'Left behind')).json()) as { id: string };
    // The first try claimed the key and died before its transaction committed.
    const first = await campaign(partner.token, 'died-before', offer.id, 'a@client.example');
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    await stack.deps.sql`delete from delegations where campaign_id = ${id}`;
    await stack.deps.sql`delete from send_chunks where campaign_id = ${id}`;
    await stack.deps.sql`delete from audit_events where target_id = ${id}`;
    await stack.deps.sql`delete from campaigns where id = ${id}`;
    await stack.deps.sql`
      update idempotency_keys set status = null, body = null, content_type = null,
        request_id = 'req_died', claimed_until = now() - interval '1 second'
      where key = 'died-before'`;
    expect(await campaignsOf(partner.token)).toEqual([]);

    const retried = await campaign(partner.token, 'died-before', offer.id, 'a@client.example');
    expect(retried.status).toBe(202);
    expect(await campaignsOf(partner.token)).toHaveLength(1);
    const again = await campaign(partner.token, 'died-before', offer.id, 'a@client.example');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await campaignsOf(partner.token)).toHaveLength(1);
  });

  it('is answered 409 IDEMPOTENT_RESPONSE_LOST, naming what it changed, when its request took effect', async () => {
    const partner = await createTestPartner(stack);
    const offer = (await (await createOffer(partner.token, 'offer-2', 'Took effect')).json()) as { id: string };
    const first = await campaign(partner.token, 'died-after', offer.id, 'b@client.example');
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    // The campaign committed; the process died before the answer was stored.
    await stack.deps.sql`
      update idempotency_keys set status = null, body = null, content_type = null,
        claimed_until = now() - interval '1 second'
      where key = 'died-after'`;
    const retried = await campaign(partner.token, 'died-after', offer.id, 'b@client.example');
    const problem = await readProblem(retried);
    expect(problem.status).toBe(409);
    expect(problem.code).toBe('IDEMPOTENT_RESPONSE_LOST');
    expect(problem).toMatchObject({ effect: { targetType: 'campaign', targetId: id } });
    expect(await campaignsOf(partner.token)).toHaveLength(1);
  });

  it('is kept while its lease runs, and its request keeps renewing it', async () => {
    const partner = await createTestPartner(stack);
    const offer = (await (await createOffer(partner.token, 'offer-3', 'Alive')).json()) as { id: string };
    expect((await campaign(partner.token, 'alive', offer.id, 'c@client.example')).status).toBe(202);
    await stack.deps.sql`update idempotency_keys set status = null, request_id = 'req_gone' where key = 'alive'`;
    const [row] = await stack.deps.sql`select claimed_until > now() as held from idempotency_keys where key = 'alive'`;
    expect(row?.held).toBe(true);
    const problem = await readProblem(await campaign(partner.token, 'alive', offer.id, 'c@client.example'));
    expect(problem.code).toBe('CONFLICT');
    expect(await campaignsOf(partner.token)).toHaveLength(1);
  });

  it('every POST that takes effect audits it under its request id: how an abandoned claim is judged', async () => {
    const partner = await createTestPartner(stack);
    const offer = await createOffer(partner.token, 'audited-offer', 'Audited');
    const offerId = ((await offer.clone().json()) as { id: string }).id;
    const responses = [
      offer,
      await campaign(partner.token, 'audited-campaign', offerId, 'd@client.example'),
      await stack.request('/v1/tokens', {
        method: 'POST',
        token: partner.token,
        json: { name: 'audited', scopes: ['read'], expiresInDays: 5 },
      }),
      await stack.request('/v1/staff', {
        method: 'POST',
        token: partner.token,
        json: { email: 'audited-staff@partner.example', displayName: 'S', access: 'none' },
      }),
    ];
    for (const response of responses) {
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      const requestId = response.headers.get('x-request-id');
      const rows = await stack.deps.sql`select 1 from audit_events where request_id = ${requestId}`;
      expect(rows.length, `${response.url} ${requestId}`).toBeGreaterThan(0);
    }
  });
});

describe('the fence: a request that lost its claim changes nothing', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const post = (token: string, key: string, offerId: string) =>
    stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      headers: { 'idempotency-key': key },
      json: { offerId, name: `fenced-${key}`, recipients: [{ email: 'fence@client.example' }] },
    });

  it('a stalled request whose claim a retry took over is refused in its own transaction: one campaign, not two', async () => {
    const partner = await createTestPartner(stack);
    const offer = (await (await createOffer(partner.token, 'fence-offer', 'Fenced')).json()) as { id: string };
    const released = { done: () => {} };
    const holding = new Promise<void>((resolve) => {
      released.done = resolve;
    });
    // The campaigns table locked elsewhere: the first request stalls inside its transaction.
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const lock = stack.deps.sql.begin(async (tx) => {
      await tx`lock table campaigns in access exclusive mode`;
      locked();
      await holding;
    });
    await lockTaken;
    const first = post(partner.token, 'stalled', offer.id);
    await sleep(300);
    // Its lease passes (as if its renewals could not reach the database), and the client retries.
    await stack.deps.sql`update idempotency_keys set claimed_until = now() - interval '1 second' where key = 'stalled'`;
    const retry = post(partner.token, 'stalled', offer.id);
    await sleep(300);
    released.done();
    await lock;
    const [a, b] = await Promise.all([first, retry]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const names = await stack.deps.sql`select count(*)::int as n from campaigns where name = 'fenced-stalled'`;
    expect(names[0]?.n).toBe(1);
  });

  it('a request that failed after its commit keeps its claim: the retry is told, not run again', async () => {
    const partner = await createTestPartner(stack);
    const [user] = await stack.deps.sql`select id from users where email = ${partner.email}`;
    // An effect audited under the request's id, and a claim its request would now release.
    await stack.deps.sql`insert into idempotency_keys (user_id, key, request_hash, request_id, claimed_until)
      values (${user?.id}, 'committed', 'h', 'req_committed', now() + interval '30 seconds')`;
    await stack.deps
      .sql`insert into audit_events (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, request_id)
      values (${user?.id}, ${partner.partnerId}, ${partner.partnerId}, 'campaign.create', 'campaign', 'cmp_x', 'succeeded', 'req_committed')`;
    const { releaseKey } = await import('../../../services/shared/idempotency-keys.ts');
    await releaseKey(stack.deps.db).execute({ userId: user?.id, key: 'committed', requestId: 'req_committed' });
    expect(await stack.deps.sql`select 1 from idempotency_keys where key = 'committed'`).toHaveLength(1);
    // A refusal recorded under a request's id is no effect: its key is released.
    await stack.deps.sql`insert into idempotency_keys (user_id, key, request_hash, request_id, claimed_until)
      values (${user?.id}, 'refused', 'h', 'req_refused', now() + interval '30 seconds')`;
    await stack.deps
      .sql`insert into audit_events (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, request_id)
      values (${user?.id}, ${partner.partnerId}, ${partner.partnerId}, 'api.denied', 'route', '/v1/campaigns', 'rejected', 'req_refused')`;
    await releaseKey(stack.deps.db).execute({ userId: user?.id, key: 'refused', requestId: 'req_refused' });
    expect(await stack.deps.sql`select 1 from idempotency_keys where key = 'refused'`).toHaveLength(0);
  });
});

describe('an operation request claims its key in the operation’s own commit', () => {
  const provision = (token: string, delegationId: string, key: string, userName: string) =>
    stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token,
      headers: { 'idempotency-key': key },
      json: { displayName: userName, userName },
    });
  const operationsOf = async (delegationId: string) =>
    Number(
      (await stack.deps.sql`select count(*)::int as n from operations where delegation_id = ${delegationId}`)[0]?.n,
    );
  const delegation = async () => {
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
    const { delegationId } = await activateDelegation(stack, fixture);
    return { delegationId, token: fixture.partner.token };
  };

  it('the key, the operation and its audit row are one commit: replayed, refused with another body, 409 while held', async () => {
    const { delegationId, token } = await delegation();
    const first = await provision(token, delegationId, 'op-1', 'one');
    expect(first.status).toBe(202);
    const { operationId } = (await first.json()) as { operationId: string };
    const [row] = await stack.deps.sql`
      select k.request_id = o.request_id and k.request_id = a.request_id as together, k.status
      from idempotency_keys k, operations o, audit_events a
      where k.key = 'op-1' and o.id = ${operationId} and a.target_id = o.id`;
    expect(row).toEqual({ together: true, status: 202 });

    const again = await provision(token, delegationId, 'op-1', 'one');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ operationId });
    expect((await readProblem(await provision(token, delegationId, 'op-1', 'other'))).code).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
    // As if the first were still running: claimed, no answer stored yet.
    await stack.deps.sql`update idempotency_keys set status = null, body = null where key = 'op-1'`;
    expect((await readProblem(await provision(token, delegationId, 'op-1', 'one'))).code).toBe('CONFLICT');
    expect(await operationsOf(delegationId)).toBe(1);
  });

  it('a claim whose request took effect and lost its answer is 409 IDEMPOTENT_RESPONSE_LOST; one that took none is taken over', async () => {
    const { delegationId, token } = await delegation();
    const first = await provision(token, delegationId, 'op-lost', 'lost');
    const { operationId } = (await first.json()) as { operationId: string };
    await stack.deps.sql`
      update idempotency_keys set status = null, body = null, content_type = null,
        claimed_until = now() - interval '1 second'
      where key = 'op-lost'`;
    const lost = await readProblem(await provision(token, delegationId, 'op-lost', 'lost'));
    expect(lost.code).toBe('IDEMPOTENT_RESPONSE_LOST');
    expect(lost).toMatchObject({ effect: { targetType: 'operation', targetId: operationId } });

    // A claim left by a request that changed nothing (made before claims went with the commit).
    const second = await provision(token, delegationId, 'op-none', 'none');
    const made = ((await second.json()) as { operationId: string }).operationId;
    await stack.deps.sql`delete from audit_events where target_id = ${made}`;
    await stack.deps.sql`delete from operations where id = ${made}`;
    await stack.deps.sql`
      update idempotency_keys set status = null, body = null, content_type = null,
        request_id = 'req_died', claimed_until = now() - interval '1 second'
      where key = 'op-none'`;
    const retried = await provision(token, delegationId, 'op-none', 'none');
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await operationsOf(delegationId)).toBe(2);
  });

  it('a request refused at its commit (the address in use) leaves no claim behind', async () => {
    const { delegationId, token } = await delegation();
    const first = await provision(token, delegationId, 'op-a', 'taken');
    expect(first.status).toBe(202);
    // The user it asked for exists by now (a worker made it).
    const { operationId } = (await first.json()) as { operationId: string };
    await stack.deps.sql`
      insert into users (id, org_id, email, display_name, password_hash)
      select ${newId('user')}, client_org_id, input->>'email', 'Taken', '!' from operations where id = ${operationId}`;
    const refused = await provision(token, delegationId, 'op-b', 'taken');
    expect(refused.status).toBe(409);
    const keys = await stack.deps.sql`select key from idempotency_keys where key in ('op-a', 'op-b')`;
    expect(keys.map((k) => k.key)).toEqual(['op-a']);
  });
});
