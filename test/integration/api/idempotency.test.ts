import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, readProblem } from '../../helpers/factories.ts';
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
