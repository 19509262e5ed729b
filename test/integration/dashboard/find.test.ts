import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInClient } from '../../helpers/dashboard.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** Finding things on the dashboard: search, the campaign picker, sorting that stays in the address. */
let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let campaignId: string;

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack, 'Finder IT');
  const offer = await createTestOffer(stack, owner.token);
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token: owner.token,
    json: {
      offerId: offer.id,
      name: 'Winter <rollout>',
      recipients: [
        { email: 'z@zeta.example', company: 'Zeta Ltd' },
        { email: 'a@alpha.example', company: 'alpha gmbh' },
        { email: 'm@mu.example', company: 'Mu Inc' },
        { email: 'pct@percent.example', company: '100% Widgets' },
      ],
    },
  });
  campaignId = ((await response.json()) as { id: string }).id;
});
afterAll(() => stack.close());

const order = (html: string) => [...html.matchAll(/>([^<]+)<\/a><\/td><td>([^<]*)<\/td>/g)].map((m) => m[1]);

describe('finding on the dashboard', () => {
  it('sorts delegations by company, case aside, and picks a campaign by name', async () => {
    const browser = await signedInClient(stack, owner.userId);
    const page = await browser.get(`/dashboard/delegations?campaignId=${campaignId}&sort=company`);
    expect(page.status).toBe(200);
    expect(order(page.html)).toEqual(['pct@percent.example', 'a@alpha.example', 'm@mu.example', 'z@zeta.example']);
    expect(page.html).toMatch(new RegExp(`<option value="${campaignId}" selected="">Winter &lt;rollout&gt; \\(`));
    expect(page.html).toMatch(/<option value="company" selected="">company, A to Z<\/option>/);
    const newest = await browser.get(`/dashboard/delegations?campaignId=${campaignId}`);
    expect(order(newest.html)).toHaveLength(4);
    expect((await browser.get('/dashboard/delegations?sort=sideways')).status).toBe(422);
  });

  it('searches recipients by email or company, taking % literally', async () => {
    const browser = await signedInClient(stack, owner.userId);
    const byCompany = await browser.get('/dashboard/search?q=ALPHA');
    expect(byCompany.html).toContain('a@alpha.example');
    expect(byCompany.html).not.toContain('z@zeta.example');
    const percent = await browser.get(`/dashboard/search?q=${encodeURIComponent('0%')}`);
    expect(percent.html).toContain('pct@percent.example');
    expect(percent.html).not.toContain('m@mu.example');
    expect((await browser.get('/dashboard/search?q=a')).status).toBe(422);
  });
});
