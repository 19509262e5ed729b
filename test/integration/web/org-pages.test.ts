import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAcceptance } from '../../../services/offers/acceptance.ts';
import { createOrgFromOffer, PageClient } from '../../helpers/browser-client.ts';
import { createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

/** A client organization with an active delegation to a partner named `partnerName`. */
async function activeDelegation(partnerName: string) {
  const fixture = await createOfferFixture(stack, { partnerName });
  const { token, delegationId } = fixture.links.get('admin@client.example') as { token: string; delegationId: string };
  const browser = new PageClient(stack);
  const email = `admin-${randomBytes(4).toString('hex')}@client.example`;
  await createOrgFromOffer(browser, token, { orgName: 'Fabrikam <b>Ltd</b>', adminName: 'Kim', email });
  await browser.post(`/offers/${token}/accept`);
  await processAcceptance(stack.deps, delegationId);
  return { fixture, browser, delegationId, email };
}

describe('the organization page', () => {
  it('asks to sign in first, and returns there after', async () => {
    const { email } = await activeDelegation('Signin Partner');
    const browser = new PageClient(stack);
    const first = await browser.get('/org/delegations');
    expect(first.status).toBe(303);
    expect(first.response.headers.get('location')).toBe('/sign-in?next=%2Forg%2Fdelegations');
    await browser.get('/sign-in?next=/org/delegations');
    const signedIn = await browser.post('/sign-in', {
      email,
      password: 'correct horse battery staple',
      next: '/org/delegations',
    });
    expect(signedIn.location).toBe('/org/delegations');
    expect((await browser.get('/org/delegations')).status).toBe(200);
  });

  it('never redirects to another site after sign-in', async () => {
    const { email } = await activeDelegation('Redirect Partner');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const browser = new PageClient(stack);
      await browser.get('/sign-in');
      const result = await browser.post('/sign-in', { email, password: 'correct horse battery staple', next });
      expect(result.location).toBe('/');
    }
  });

  it('lists the partners with access and the audit trail, escaped', async () => {
    const { browser } = await activeDelegation('<img src=x onerror=alert(1)>');
    const page = await browser.get('/org/delegations');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Fabrikam &lt;b&gt;Ltd&lt;/b&gt;');
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The granted roles in plain words: each role's name and what it allows.
    expect(page.html).toContain('<strong>Password administrator</strong>');
    expect(page.html).toContain('Can reset the passwords of users who are not administrators.');
    expect(page.html).toContain('Accepted the delegation');
    expect(page.html).toContain('Granted the delegated access');
  });

  it('ending a delegation from the page terminates it, records who, and emails both sides', async () => {
    const { browser, delegationId, fixture, email } = await activeDelegation('Ending Partner');
    const ended = await browser.post(`/org/delegations/${delegationId}/end`);
    expect(ended.status).toBe(303);
    const [row] = await stack.deps.sql`select state, ended_by, ended_at from delegations where id = ${delegationId}`;
    expect(row?.state).toBe('terminated');
    expect(row?.ended_by).toMatch(/^usr_/);
    const [event] = await stack.deps
      .sql`select actor_type, actor_id from delegation_events where delegation_id = ${delegationId} and event = 'terminate'`;
    expect(event).toEqual({ actor_type: 'client_user', actor_id: row?.ended_by });
    const emails = await stack.deps
      .sql`select to_email, kind from emails where delegation_id = ${delegationId} and kind = 'terminated'`;
    expect(new Set(emails.map((e) => e.to_email))).toEqual(
      new Set([fixture.partner.email.toLowerCase(), email.toLowerCase()]),
    );
    const page = await browser.get('/org/delegations?ended=1');
    expect(page.html).toContain('The delegation has been ended');
    expect(page.html).toContain('terminated');
  });

  it("cannot end another organization's delegation", async () => {
    const first = await activeDelegation('Partner One');
    const second = await activeDelegation('Partner Two');
    const attempt = await second.browser.post(`/org/delegations/${first.delegationId}/end`);
    expect(attempt.status).toBe(404);
    expect((await stack.deps.sql`select state from delegations where id = ${first.delegationId}`)[0]?.state).toBe(
      'active',
    );
  });

  it('is not for partner users', async () => {
    const fixture = await createOfferFixture(stack);
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    await browser.post('/sign-in', { email: fixture.partner.email, password: fixture.partner.password });
    expect((await browser.get('/org/delegations')).status).toBe(403);
  });

  it('sign-out ends the session', async () => {
    const { browser } = await activeDelegation('Signout Partner');
    expect((await browser.post('/sign-out')).status).toBe(303);
    expect((await browser.get('/org/delegations')).status).toBe(303);
  });
});
