import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, createTestStaff } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** A request the API refuses an authenticated caller (403) is an event in the partner's trail. */
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

describe('refused API requests are audited', () => {
  it('records who was refused what, by route and code, never the body', async () => {
    const partner = await createTestPartner(stack);
    const token = await createTestStaff(stack, partner.partnerId, []);
    const refused = await stack.request('/v1/staff', { token });
    expect(refused.status).toBe(403);
    // The same refusal again within the minute is not recorded again: a caller cannot flood the trail.
    for (let i = 0; i < 5; i++) expect((await stack.request('/v1/staff', { token })).status).toBe(403);
    const rows = await stack.deps.sql`
      select action, outcome, actor_user_id, org_id, detail from audit_events
      where partner_id = ${partner.partnerId} and action = 'api.denied'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.outcome).toBe('rejected');
    expect(rows[0]?.org_id).toBe(partner.partnerId);
    expect(rows[0]?.detail).toMatchObject({ method: 'GET', route: '/v1/staff', code: 'NOT_AUTHORIZED' });
    expect(rows[0]?.detail.tokenId).toMatch(/^tok_/);
    // A request without a valid token names nobody: nothing to record.
    expect((await stack.request('/v1/staff', { token: 'mdt_unknown' })).status).toBe(401);
    const [after] = await stack.deps.sql`select count(*)::int as n from audit_events where action = 'api.denied'`;
    expect(after?.n).toBe(1);
  });

  it('records a token refused for its scope, and a known token that expired', async () => {
    const partner = await createTestPartner(stack);
    const readOnly = await stack.request('/v1/tokens', {
      method: 'POST',
      token: partner.token,
      json: { name: 'read only', scopes: ['read'] },
    });
    expect(readOnly.status).toBe(201);
    const { token, id } = (await readOnly.json()) as { token: string; id: string };
    expect((await stack.request('/v1/offers', { method: 'POST', token, json: {} })).status).toBe(403);
    await stack.deps.sql`update api_tokens set expires_at = now() - interval '1 minute' where id = ${id}`;
    expect((await stack.request('/v1/offers', { token })).status).toBe(401);
    const rows = await stack.deps.sql`
      select detail from audit_events where partner_id = ${partner.partnerId} and action = 'api.denied' order by id`;
    expect(rows.map((r) => [r.detail.code, r.detail.tokenId])).toEqual([
      ['INSUFFICIENT_SCOPE', id],
      ['UNAUTHENTICATED', id],
    ]);
  });
});
