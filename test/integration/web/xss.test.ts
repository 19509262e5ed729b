import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAcceptance } from '../../../services/offers/acceptance.ts';
import { createOrgFromOffer, PageClient } from '../../helpers/browser-client.ts';
import { createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** A partner named like a script renders as text on every page it appears on. */
const evil = '<script>alert(1)</script>';
const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;';
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

function expectEscaped(html: string) {
  expect(html).not.toContain(evil);
  expect(html).toContain(escaped);
}

describe('partner-supplied text on pages', () => {
  it('is escaped on the offer, status, organization and declined pages, and in the emails', async () => {
    const fixture = await createOfferFixture(stack, {
      partnerName: evil,
      recipients: ['yes@client.example', 'no@client.example'],
    });
    const yes = fixture.links.get('yes@client.example') as { token: string; delegationId: string };
    const browser = new PageClient(stack);
    expectEscaped((await browser.get(`/offers/${yes.token}`)).html);
    await createOrgFromOffer(browser, yes.token, {
      orgName: '<img src=x onerror=alert(2)>',
      email: 'yes@client.example',
    });
    await browser.post(`/offers/${yes.token}/accept`);
    expectEscaped((await browser.get(`/offers/${yes.token}`)).html);
    await processAcceptance(stack.deps, yes.delegationId);
    expectEscaped((await browser.get(`/offers/${yes.token}`)).html);
    const org = (await browser.get('/org/delegations')).html;
    expectEscaped(org);
    expect(org).not.toContain('<img src=x');

    const no = fixture.links.get('no@client.example') as { token: string };
    const other = new PageClient(stack);
    await other.get(`/offers/${no.token}`);
    expectEscaped((await other.get(`/offers/${no.token}/decline`)).html);
    expectEscaped((await other.post(`/offers/${no.token}/decline`, { confirm: 'yes' })).html);

    const emails = await stack.deps
      .sql`select html_body, text_body from emails where delegation_id = ${yes.delegationId}`;
    expect(emails.length).toBeGreaterThan(0);
    for (const email of emails) {
      expect(email.html_body).not.toContain(evil);
      expect(email.html_body).not.toContain('<img src=x');
    }
  });
});
