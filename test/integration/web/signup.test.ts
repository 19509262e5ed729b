import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageClient } from '../../helpers/browser-client.ts';
import { rowCounts } from '../../helpers/factories.ts';
import { createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const form = (email: string) => ({
  orgName: 'Squatter Inc',
  adminName: 'Mallory',
  email,
  password: 'correct horse battery staple',
});

describe('creating an organization proves the address', () => {
  it("nobody can claim someone else's address: nothing is created until its mailbox confirms", async () => {
    const fixture = await createOfferFixture(stack, { recipients: ['victim@client.example'] });
    const before = await rowCounts(stack);
    const attacker = new PageClient(stack);
    await attacker.get(`/offers/${fixture.reusableToken}`);
    const answer = await attacker.post(`/offers/${fixture.reusableToken}/create-org`, form('victim@client.example'));
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('Check your email');
    const after = await rowCounts(stack);
    expect(after.users).toBe(before.users);
    expect(after.organizations).toBe(before.organizations);
    expect(attacker.cookies.has('mandate_session')).toBe(false);

    // The real recipient, through their personal link, creates the organization at once.
    const victim = new PageClient(stack);
    const token = fixture.links.get('victim@client.example')?.token as string;
    await victim.get(`/offers/${token}`);
    const created = await victim.post(`/offers/${token}/create-org`, {
      ...form('victim@client.example'),
      orgName: 'Victim Ltd',
    });
    expect(created.status).toBe(303);
  });

  it('answers the same whether or not the address has an account, and tells its owner', async () => {
    const fixture = await createOfferFixture(stack);
    const browser = new PageClient(stack);
    await browser.get(`/offers/${fixture.reusableToken}`);
    const known = await browser.post(`/offers/${fixture.reusableToken}/create-org`, form(fixture.partner.email));
    const unknown = await browser.post(
      `/offers/${fixture.reusableToken}/create-org`,
      form('nobody-yet@client.example'),
    );
    expect(known.status).toBe(unknown.status);
    const strip = (html: string) => html.replace(/[\w.+-]+@[\w.-]+/g, 'ADDRESS');
    expect(strip(known.html)).toBe(strip(unknown.html));
    const [notice] = await stack.deps
      .sql`select kind from emails where lower(to_email) = ${fixture.partner.email.toLowerCase()} and kind like 'signup%'`;
    expect(notice?.kind).toBe('signup-exists');
  });

  it('a confirmation link works once, within its hour', async () => {
    const fixture = await createOfferFixture(stack);
    const browser = new PageClient(stack);
    await browser.get(`/offers/${fixture.reusableToken}`);
    await browser.post(`/offers/${fixture.reusableToken}/create-org`, form('once@client.example'));
    const [email] = await stack.deps
      .sql`select text_body from emails where to_email = 'once@client.example' and kind = 'confirm-signup'`;
    const token = /\/signup\/([A-Za-z0-9_-]{43})/.exec(String(email?.text_body))?.[1] as string;
    expect((await browser.get(`/signup/${token}`)).status).toBe(200);
    const first = await browser.post(`/signup/${token}`);
    expect(first.status).toBe(303);
    expect(first.location).toBe(`/offers/${fixture.reusableToken}`);
    expect((await browser.get(first.location as string)).html).toContain('Signed in as once@client.example');
    expect((await browser.post(`/signup/${token}`)).status).toBe(410);

    await browser.post('/sign-out');
    await browser.get(`/offers/${fixture.reusableToken}`);
    await browser.post(`/offers/${fixture.reusableToken}/create-org`, form('late@client.example'));
    await stack.deps
      .sql`update signups set expires_at = now() - interval '1 second' where email = 'late@client.example'`;
    const [late] = await stack.deps.sql`select text_body from emails where to_email = 'late@client.example'`;
    const lateToken = /\/signup\/([A-Za-z0-9_-]{43})/.exec(String(late?.text_body))?.[1] as string;
    expect((await browser.get(`/signup/${lateToken}`)).status).toBe(410);
  });

  it('a withdrawn offer takes no sign-ups or sign-ins', async () => {
    const fixture = await createOfferFixture(stack);
    const browser = new PageClient(stack);
    await browser.get(`/offers/${fixture.reusableToken}`);
    await stack.request(`/v1/offers/${fixture.offer.id}`, { method: 'DELETE', token: fixture.partner.token });
    expect((await browser.post(`/offers/${fixture.reusableToken}/create-org`, form('x@client.example'))).status).toBe(
      410,
    );
    expect(
      (await browser.post(`/offers/${fixture.reusableToken}/sign-in`, { email: 'x@client.example', password: 'y' }))
        .status,
    ).toBe(410);
  });

  it('forms must be URL-encoded, small, and from this site', async () => {
    const fixture = await createOfferFixture(stack);
    const path = `/offers/${fixture.reusableToken}/sign-in`;
    const multipart = await stack.request(path, {
      method: 'POST',
      body: '--x\r\ngarbage',
      headers: { 'content-type': 'multipart/form-data; boundary=' },
    });
    expect(multipart.status).toBe(415);
    const big = await stack.request(path, {
      method: 'POST',
      body: `email=${'a'.repeat(100_000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(big.status).toBe(413);
    const foreign = await stack.request(path, {
      method: 'POST',
      body: 'email=a&password=b&csrf=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });
});
