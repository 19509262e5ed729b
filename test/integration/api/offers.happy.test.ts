import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../lib/secrets.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await createTestStack();
  ({ token } = await createTestPartner(stack));
});
afterAll(() => stack.close());

describe('POST /v1/offers', () => {
  it('creates an offer with defaults and a reusable link stored only as a hash', async () => {
    const response = await stack.request('/v1/offers', {
      method: 'POST',
      token,
      json: { name: 'Managed IT', access: 'limited', autoExtend: true },
    });
    expect(response.status).toBe(201);
    const offer = (await response.json()) as Record<string, unknown>;
    expect(offer).toMatchObject({
      name: 'Managed IT',
      access: 'limited',
      durationDays: 730,
      autoExtend: true,
      revokedAt: null,
    });
    expect(offer.id).toMatch(/^ofr_[0-9a-f]{32}$/);
    const url = offer.url as string;
    expect(url).toMatch(/^http:\/\/mandate\.test\/offers\/[A-Za-z0-9_-]{43}$/);
    const expiresInDays = (Date.parse(offer.expiresAt as string) - Date.now()) / 86_400_000;
    expect(expiresInDays).toBeGreaterThan(89.9);
    expect(expiresInDays).toBeLessThan(90.1);

    const linkToken = url.split('/').pop() as string;
    const rows = await stack.deps.sql`select token_hash, roles from offers where id = ${offer.id as string}`;
    expect(rows[0]).toEqual({ token_hash: sha256Hex(linkToken), roles: ['password_admin'] });
    const stored = JSON.stringify(await stack.deps.sql`select * from offers`);
    expect(stored).not.toContain(linkToken);
  });

  it('creates a full-access offer with a chosen duration and expiry', async () => {
    const offer = await createTestOffer(stack, token, { access: 'full', durationDays: 30, expiresInDays: 7 });
    expect(offer).toMatchObject({ access: 'full', durationDays: 30, autoExtend: false });
  });

  it('records who created it in the audit trail', async () => {
    const offer = await createTestOffer(stack, token);
    const rows = await stack.deps
      .sql`select action, outcome, request_id from audit_events where target_id = ${offer.id}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'offer.create', outcome: 'succeeded' });
    expect(rows[0]?.request_id).toBeTruthy();
  });
});

describe('GET /v1/offers', () => {
  it('pages through offers newest first, without their links', async () => {
    const other = await createTestPartner(stack);
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createTestOffer(stack, other.token, { name: `Offer ${i}` }));
    const first = await stack.request('/v1/offers?limit=3', { token: other.token });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { items: { id: string; url?: string }[]; nextCursor: string };
    expect(page1.items.map((o) => o.id)).toEqual(
      created
        .slice(2)
        .reverse()
        .map((o) => o.id),
    );
    expect(page1.items.every((o) => o.url === undefined)).toBe(true);
    const page2 = (await (
      await stack.request(`/v1/offers?limit=3&cursor=${page1.nextCursor}`, { token: other.token })
    ).json()) as { items: { id: string }[]; nextCursor: string | null };
    expect(page2.items.map((o) => o.id)).toEqual(
      created
        .slice(0, 2)
        .reverse()
        .map((o) => o.id),
    );
    expect(page2.nextCursor).toBeNull();
  });
});

describe('DELETE /v1/offers/{id}', () => {
  it('revokes the offer; a second revoke changes nothing', async () => {
    const offer = await createTestOffer(stack, token);
    const first = await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token });
    expect(first.status).toBe(200);
    const revoked = (await first.json()) as { revokedAt: string; terminatedDelegations: number };
    expect(revoked.revokedAt).toBeTruthy();
    const again = (await (await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token })).json()) as {
      revokedAt: string;
    };
    expect(again.revokedAt).toBe(revoked.revokedAt);
  });

  it('terminates the delegations still waiting for an answer, and records each as an event', async () => {
    const offer = await createTestOffer(stack, token);
    const campaign = (await (
      await stack.request('/v1/campaigns', {
        method: 'POST',
        token,
        json: { offerId: offer.id, recipients: [{ email: 'a@x.example' }, { email: 'b@x.example' }] },
      })
    ).json()) as { id: string };
    const response = await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token });
    expect(((await response.json()) as { terminatedDelegations: number }).terminatedDelegations).toBe(2);
    const rows = await stack.deps.sql`
      select d.state, e.event, e.from_state, e.detail from delegations d
      join delegation_events e on e.delegation_id = d.id and e.event = 'terminate'
      where d.campaign_id = ${campaign.id}`;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ state: 'terminated', event: 'terminate', from_state: 'invited' });
      expect(row.detail).toEqual({ reason: 'offer revoked' });
    }
  });
});
