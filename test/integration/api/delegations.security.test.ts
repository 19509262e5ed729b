import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, readProblem } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

describe("another partner's delegation", () => {
  it('is 404 by id and absent from lists', async () => {
    const owner = await createTestPartner(stack);
    const other = await createTestPartner(stack);
    const offer = await createTestOffer(stack, owner.token);
    await stack.request('/v1/campaigns', {
      method: 'POST',
      token: owner.token,
      json: { offerId: offer.id, recipients: [{ email: 'a@x.example' }] },
    });
    const [row] = await stack.deps.sql`select id from delegations where offer_id = ${offer.id}`;
    const response = await stack.request(`/v1/delegations/${row?.id}`, { token: other.token });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe('NOT_FOUND');
    expect(await (await stack.request('/v1/delegations', { token: other.token })).json()).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await stack.request(`/v1/delegations/${row?.id}`, { token: owner.token })).status).toBe(200);
  });
});

describe('GET /v1/delegations/{id} reads the token and the delegation in one statement', () => {
  it('a token revoked between two GETs is refused on the second', async () => {
    const owner = await createTestPartner(stack);
    const offer = await createTestOffer(stack, owner.token);
    await stack.request('/v1/campaigns', {
      method: 'POST',
      token: owner.token,
      json: { offerId: offer.id, recipients: [{ email: 'revoked@x.example' }] },
    });
    const [row] = await stack.deps.sql`select id from delegations where offer_id = ${offer.id}`;
    const first = await stack.request(`/v1/delegations/${row?.id}`, { token: owner.token });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { id: string }).id).toBe(row?.id);

    await stack.deps.sql`update api_tokens set revoked_at = now() where user_id = ${owner.userId}`;
    const second = await stack.request(`/v1/delegations/${row?.id}`, { token: owner.token });
    expect(second.status).toBe(401);
    expect((await readProblem(second)).code).toBe('UNAUTHENTICATED');
  });
});
