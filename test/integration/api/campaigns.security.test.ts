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
let campaignId: string;
let offerId: string;

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack);
  other = await createTestPartner(stack);
  offerId = (await createTestOffer(stack, owner.token)).id;
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token: owner.token,
    json: { offerId, recipients: [{ email: 'secret-client@x.example' }] },
  });
  campaignId = ((await response.json()) as { id: string }).id;
});
afterAll(() => stack.close());

describe("another partner's campaign", () => {
  it.each(['', '/recipients'])('GET /v1/campaigns/{id}%s → 404', async (suffix) => {
    const response = await stack.request(`/v1/campaigns/${campaignId}${suffix}`, { token: other.token });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe('NOT_FOUND');
  });

  it('is not listed, and its recipients do not show in delegation lists', async () => {
    const campaigns = await (await stack.request('/v1/campaigns', { token: other.token })).text();
    expect(campaigns).not.toContain(campaignId);
    const delegations = await (
      await stack.request(`/v1/delegations?campaignId=${campaignId}`, { token: other.token })
    ).json();
    expect(delegations).toEqual({ items: [], nextCursor: null });
  });
});

describe('staff access', () => {
  it('staff without access cannot send a campaign (403, nothing written), nor follow one', async () => {
    const noAccess = await createTestStaff(stack, owner.partnerId, []);
    const before = await rowCounts(stack);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: noAccess,
      json: { offerId, recipients: [{ email: 'a@x.example' }] },
    });
    expect(response.status).toBe(403);
    expect((await readProblem(response)).code).toBe('NOT_AUTHORIZED');
    expect(await rowCounts(stack)).toEqual(before);
    // Access none reads no partner data (core/partner-permissions.ts seesPartnerData).
    const follow = await stack.request(`/v1/campaigns/${campaignId}`, { token: noAccess });
    expect(follow.status).toBe(403);
    expect((await readProblem(follow)).code).toBe('NOT_AUTHORIZED');
  });
});
