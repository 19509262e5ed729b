import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTransition, systemActor } from '../../../services/delegations/transitions.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let token: string;
let campaignIds: string[];

interface Page {
  items: { id: string; state: string; campaignId: string; recipient: { email: string } }[];
  nextCursor: string | null;
}

beforeAll(async () => {
  stack = await createTestStack();
  ({ token } = await createTestPartner(stack));
  const offer = await createTestOffer(stack, token);
  campaignIds = [];
  for (const prefix of ['a', 'b']) {
    const recipients = Array.from({ length: 6 }, (_, i) => ({ email: `${prefix}${i}@x.example` }));
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients },
    });
    campaignIds.push(((await response.json()) as { id: string }).id);
  }
});
afterAll(() => stack.close());

describe('GET /v1/delegations', () => {
  it('pages newest first through all delegations of the partner', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await stack.request(`/v1/delegations?limit=5${cursor ? `&cursor=${cursor}` : ''}`, { token })
      ).json()) as Page;
      ids.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(12);
    expect([...ids].sort().reverse()).toEqual(ids);
  });

  it('filters by campaign and by state', async () => {
    const byCampaign = (await (
      await stack.request(`/v1/delegations?campaignId=${campaignIds[1]}`, { token })
    ).json()) as Page;
    expect(byCampaign.items).toHaveLength(6);
    expect(byCampaign.items.every((d) => d.recipient.email.startsWith('b'))).toBe(true);

    const target = byCampaign.items[0] as Page['items'][0];
    await applyTransition(stack.deps.db, {
      delegationId: target.id,
      from: 'invited',
      event: 'send_failed',
      actor: systemActor,
    });
    const failed = (await (await stack.request('/v1/delegations?state=failed', { token })).json()) as Page;
    expect(failed.items.map((d) => d.id)).toEqual([target.id]);
  });
});

describe('GET /v1/delegations/{id}', () => {
  it('returns the delegation with its events in order', async () => {
    const [row] = await stack.deps
      .sql`select id from delegations where campaign_id = ${campaignIds[0] as string} limit 1`;
    const id = row?.id as string;
    await applyTransition(stack.deps.db, {
      delegationId: id,
      from: 'invited',
      event: 'send_succeeded',
      actor: systemActor,
      detail: { attempt: 1 },
    });
    await applyTransition(stack.deps.db, {
      delegationId: id,
      from: 'offered',
      event: 'decline',
      actor: { type: 'client_user', id: 'usr_client' },
    });
    const response = await stack.request(`/v1/delegations/${id}`, { token });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { state: string; access: string; events: Record<string, unknown>[] };
    expect(body.state).toBe('declined');
    expect(body.access).toBe('limited');
    expect(body.events).toEqual([
      expect.objectContaining({
        event: 'send_succeeded',
        fromState: 'invited',
        toState: 'offered',
        detail: { attempt: 1 },
      }),
      expect.objectContaining({
        event: 'decline',
        fromState: 'offered',
        toState: 'declined',
        actor: { type: 'client_user', id: 'usr_client' },
      }),
    ]);
  });
});
