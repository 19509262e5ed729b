import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestOffer,
  createTestPartner,
  createTestStaff,
  readProblem,
  rowCounts,
} from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let owner: { partnerId: string; token: string };
let other: { token: string };

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack);
  other = await createTestPartner(stack);
});
afterAll(() => stack.close());

describe('offers belong to their partner', () => {
  it('another partner cannot revoke, list or use an offer: 404, nothing changed', async () => {
    const offer = await createTestOffer(stack, owner.token);
    const revoke = await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token: other.token });
    expect(revoke.status).toBe(404);
    expect((await readProblem(revoke)).code).toBe('NOT_FOUND');
    const [row] = await stack.deps.sql`select revoked_at from offers where id = ${offer.id}`;
    expect(row?.revoked_at).toBeNull();

    const list = (await (await stack.request('/v1/offers', { token: other.token })).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((o) => o.id)).not.toContain(offer.id);

    const before = await rowCounts(stack);
    const campaign = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: other.token,
      json: { offerId: offer.id, recipients: [{ email: 'a@x.example' }] },
    });
    expect(campaign.status).toBe(404);
    expect(await rowCounts(stack)).toEqual(before);
  });
});

describe('staff access', () => {
  it('staff without access cannot create, revoke or read offers (403)', async () => {
    const noAccess = await createTestStaff(stack, owner.partnerId, []);
    const offer = await createTestOffer(stack, owner.token);
    const before = await rowCounts(stack);
    const create = await stack.request('/v1/offers', {
      method: 'POST',
      token: noAccess,
      json: { name: 'x', access: 'limited' },
    });
    expect(create.status).toBe(403);
    expect((await readProblem(create)).code).toBe('NOT_AUTHORIZED');
    const revoke = await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token: noAccess });
    expect(revoke.status).toBe(403);
    expect(await rowCounts(stack)).toEqual(before);
    // Access none reads no partner data (core/partner-permissions.ts seesPartnerData).
    const list = await stack.request('/v1/offers', { token: noAccess });
    expect(list.status).toBe(403);
    expect((await readProblem(list)).code).toBe('NOT_AUTHORIZED');
  });

  it('staff with limited access can create offers', async () => {
    const limited = await createTestStaff(stack, owner.partnerId, ['password_admin']);
    const response = await stack.request('/v1/offers', {
      method: 'POST',
      token: limited,
      json: { name: 'x', access: 'limited' },
    });
    expect(response.status).toBe(201);
  });
});

describe('secrets stay out of responses', () => {
  it('no response after creation carries the offer link token', async () => {
    const offer = await createTestOffer(stack, owner.token);
    const linkToken = offer.url.split('/').pop() as string;
    const list = await (await stack.request('/v1/offers', { token: owner.token })).text();
    const revoke = await (
      await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token: owner.token })
    ).text();
    expect(list).not.toContain(linkToken);
    expect(revoke).not.toContain(linkToken);
  });
});
