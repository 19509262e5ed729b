import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
import { activateDelegation, createOfferFixture, type OfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Staff with access `none` see no partner data on the dashboard: a plain page saying they
 * have no access yet, and their own account, tokens and sign-out. The owner's view of the
 * same pages is the control: the data is there to be leaked.
 */
let stack: TestStack;
let fixture: OfferFixture;
let campaignId: string;
let delegationId: string;
let none: PageClient;
let owner: PageClient;
const tag = randomBytes(4).toString('hex');
const offerName = `Secret offer ${tag}`;
const recipient = `secret-recipient-${tag}@client.example`;

beforeAll(async () => {
  stack = await createTestStack();
  fixture = await createOfferFixture(stack, { offer: { name: offerName, access: 'full' }, recipients: [recipient] });
  ({ delegationId } = await activateDelegation(stack, fixture, recipient));
  const [row] = await stack.deps.sql`select campaign_id from delegations where id = ${delegationId}`;
  campaignId = row?.campaign_id as string;
  const member = await createStaffMember(stack, fixture.partner.token, 'none');
  none = await signedInClient(stack, member.userId);
  owner = await signedInClient(stack, fixture.partner.userId);
});
afterAll(() => stack.close());

const dataPages = () => [
  '/dashboard/campaigns',
  `/dashboard/campaigns/${campaignId}`,
  `/dashboard/campaigns/${campaignId}/recipients.csv`,
  '/dashboard/delegations',
  `/dashboard/delegations/${delegationId}`,
  '/dashboard/operations',
];

describe('staff with access none on the dashboard', () => {
  it('the owner sees the data on these pages (the control)', async () => {
    for (const path of dataPages()) {
      const page = await owner.get(path);
      expect(page.status, path).toBe(200);
    }
    expect((await owner.get('/dashboard/campaigns')).html).toContain(offerName);
    expect((await owner.get(`/dashboard/campaigns/${campaignId}`)).html).toContain(recipient);
  });

  it('gets a plain page saying they have no access yet, with no partner data and no links to it', async () => {
    {
      const page = await none.get('/dashboard');
      expect(page.status).toBe(200);
      expect(page.html).toContain('You have no access yet');
      expect(page.html).not.toContain(offerName);
      expect(page.html).not.toContain(recipient);
      expect(page.html).not.toContain(delegationId);
      for (const link of ['/dashboard/campaigns', '/dashboard/delegations', '/dashboard/operations']) {
        expect(page.html).not.toContain(`href="${link}`);
      }
      // What stays theirs: their account, their tokens, signing out.
      expect(page.html).toContain('href="/account"');
      expect(page.html).toContain('href="/dashboard/tokens"');
      expect(page.html).toContain('action="/sign-out"');
    }
  });

  it('is refused every page of partner data (403), the page saying why and showing none of it', async () => {
    for (const path of dataPages()) {
      const page = await none.get(path);
      expect(page.status, path).toBe(403);
      expect(page.response.headers.get('content-type'), path).toContain('text/html');
      expect(page.html, path).toContain('no access');
      expect(page.html, path).not.toContain(offerName);
      expect(page.html, path).not.toContain(recipient);
    }
  });

  it('still opens their own account and tokens', async () => {
    expect((await none.get('/account')).status).toBe(200);
    const tokens = await none.get('/dashboard/tokens');
    expect(tokens.status).toBe(200);
    expect(tokens.html).not.toContain(offerName);
  });
});
