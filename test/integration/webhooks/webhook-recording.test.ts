import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribableEventTypes } from '../../../core/webhook-events.ts';
import { completeCampaigns } from '../../../services/campaigns/completion.ts';
import type { PartnerPrincipal } from '../../../services/shared/principals.ts';
import { createWebhookEndpoint, updateWebhookEndpoint } from '../../../services/webhooks/endpoints.ts';
import { recordWebhookEvents } from '../../../services/webhooks/record.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
});
afterAll(() => stack.close());

function owner(partner: { partnerId: string; userId: string; email: string }): PartnerPrincipal {
  return { ...partner, isOwner: true, roles: [], tokenId: null, token: null };
}

async function deliveries(partnerId: string) {
  return stack.deps.sql<{ endpoint_id: string; event_type: string }[]>`
    select endpoint_id, event_type from webhook_deliveries where partner_id = ${partnerId}`;
}

const url = 'http://127.0.0.1:9/hooks';

describe('recording webhook deliveries', () => {
  it('writes them only when the change commits', async () => {
    const fixture = await createOfferFixture(stack);
    const partnerId = fixture.partner.partnerId;
    await createWebhookEndpoint(stack.deps, owner(fixture.partner), { url, events: subscribableEventTypes });
    const event = { type: 'delegation.accepted' as const, partnerId, data: { n: 1 } };

    await expect(
      stack.deps.db.transaction(async (tx) => {
        expect(await recordWebhookEvents(tx, [event])).toBe(1);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await deliveries(partnerId)).toEqual([]);

    // A real transition: its own statement writes the delivery.
    const { delegationId } = await activateDelegation(stack, fixture);
    const before = (await deliveries(partnerId)).length;
    const terminated = await stack.request(`/v1/delegations/${delegationId}`, {
      method: 'DELETE',
      token: fixture.partner.token,
    });
    expect(terminated.status).toBe(200);
    const after = await deliveries(partnerId);
    expect(after.length).toBe(before + 1);
    expect(after.filter((d) => d.event_type === 'delegation.terminated')).toHaveLength(1);

    await stack.deps.db.transaction((tx) => recordWebhookEvents(tx, [event]));
    expect((await deliveries(partnerId)).length).toBe(before + 2);
  });

  it('writes none for a partner without an endpoint', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = await activateDelegation(stack, fixture);
    const terminated = await stack.request(`/v1/delegations/${delegationId}`, {
      method: 'DELETE',
      token: fixture.partner.token,
    });
    expect(terminated.status).toBe(200);
    expect(await deliveries(fixture.partner.partnerId)).toEqual([]);
    const [row] = await stack.deps.sql`select count(*)::int as n from webhook_deliveries`;
    expect(row?.n).toBeGreaterThan(0); // others' rows exist: the count above is not vacuous
  });

  it('writes none for an endpoint turned off or not subscribed to the event, one for each other', async () => {
    const fixture = await createOfferFixture(stack);
    const principal = owner(fixture.partner);
    const all = await createWebhookEndpoint(stack.deps, principal, { url, events: subscribableEventTypes });
    const second = await createWebhookEndpoint(stack.deps, principal, { url, events: ['delegation.terminated'] });
    const off = await createWebhookEndpoint(stack.deps, principal, { url, events: subscribableEventTypes });
    await updateWebhookEndpoint(stack.deps, principal, off.id, { enabled: false });
    const other = await createWebhookEndpoint(stack.deps, principal, { url, events: ['operation.failed'] });

    const { delegationId } = await activateDelegation(stack, fixture);
    const rows = await deliveries(fixture.partner.partnerId);
    expect(rows.filter((r) => r.event_type === 'delegation.activated').map((r) => r.endpoint_id)).toEqual([all.id]);

    await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: fixture.partner.token });
    const ended = (await deliveries(fixture.partner.partnerId)).filter((r) => r.event_type === 'delegation.terminated');
    expect(ended.map((r) => r.endpoint_id).sort()).toEqual([all.id, second.id].sort());
    const ids = (await deliveries(fixture.partner.partnerId)).map((r) => r.endpoint_id);
    expect(ids).not.toContain(off.id);
    expect(ids).not.toContain(other.id);
    // Same event on both endpoints: one event id.
    const eventIds = await stack.deps.sql`select distinct event_id from webhook_deliveries
      where partner_id = ${fixture.partner.partnerId} and event_type = 'delegation.terminated'`;
    expect(eventIds).toHaveLength(1);
  });

  it("writes a campaign's completion with the completion, once, for the campaigns named", async () => {
    const fixture = await createOfferFixture(stack, { recipients: ['a@client.example', 'b@client.example'] });
    const partnerId = fixture.partner.partnerId;
    await createWebhookEndpoint(stack.deps, owner(fixture.partner), { url, events: ['campaign.completed'] });
    const [campaign] = await stack.deps.sql`select id from campaigns where partner_id = ${partnerId}`;
    const campaignId = campaign?.id as string;
    expect(await completeCampaigns(stack.deps.db, [])).toEqual([]);
    // Named, as a chunk's sender names its campaign.
    expect(await completeCampaigns(stack.deps.db, [campaignId])).toEqual([campaignId]);
    expect(await completeCampaigns(stack.deps.db, [campaignId])).toEqual([]);
    expect(await completeCampaigns(stack.deps.db)).not.toContain(campaignId);
    const rows = await deliveries(partnerId);
    expect(rows.map((r) => r.event_type)).toEqual(['campaign.completed']);
  });
});
