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

const unique = () => randomBytes(4).toString('hex');

/** Creates a client organization through the offer page; returns the signed-in client. */
async function newClientOrg(token: string, ip = '127.0.0.1') {
  const browser = new PageClient(stack, ip);
  const email = `admin-${unique()}@client.example`;
  await createOrgFromOffer(browser, token, { orgName: `Client ${unique()}`, email });
  return { browser, email };
}

describe('the offer page', () => {
  it('shows who asks, what, for how long, and that device management is excluded', async () => {
    const { links } = await createOfferFixture(stack, {
      offer: { access: 'full', durationDays: 90 },
      partnerName: 'Acme IT',
    });
    const { token } = links.get('admin@client.example') as { token: string };
    const page = await new PageClient(stack).get(`/offers/${token}`);
    expect(page.status).toBe(200);
    expect(page.response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.html).toContain('Acme IT asks to administer your organization');
    expect(page.html).toContain('Full administration: the same rights as your global administrators');
    expect(page.html).toContain('90 days from your acceptance');
    expect(page.html).toContain('Device management (mobile devices) is never included.');
    expect(page.html).toContain('Does not renew');
    // Every form field has a visible label tied to it.
    const inputs = [...page.html.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1]);
    expect(inputs.length).toBeGreaterThanOrEqual(6);
    for (const id of inputs) expect(page.html).toContain(`<label for="${id}">`);
    expect(page.response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('describes limited access and auto-extend', async () => {
    const { reusableToken } = await createOfferFixture(stack, { offer: { access: 'limited', autoExtend: true } });
    const page = await new PageClient(stack).get(`/offers/${reusableToken}`);
    expect(page.html).toContain('Limited administration: can reset passwords of non-admin users');
    expect(page.html).toContain('Renews automatically by 180 days');
    expect(page.html).not.toContain('Decline this offer');
  });

  it.each([
    ['an unknown token', `/offers/${'A'.repeat(43)}`, 404],
    ['a malformed token', '/offers/not-a-token', 404],
    ['a token with odd bytes', '/offers/%00%ff', 404],
  ])('%s → %i page, no stack trace', async (_label, path, status) => {
    const page = await new PageClient(stack).get(path);
    expect(page.status).toBe(status);
    expect(page.html).toContain('<!doctype html>');
    expect(page.html).not.toMatch(/at .*\.ts:\d+/);
  });

  it('a revoked offer → 410 for personal and reusable links', async () => {
    const fixture = await createOfferFixture(stack);
    await stack.request(`/v1/offers/${fixture.offer.id}`, { method: 'DELETE', token: fixture.partner.token });
    for (const token of [fixture.reusableToken, fixture.links.get('admin@client.example')?.token]) {
      const page = await new PageClient(stack).get(`/offers/${token}`);
      expect(page.status).toBe(410);
      expect(page.html).toContain('withdrawn');
    }
  });

  it('an expired offer → 410', async () => {
    const fixture = await createOfferFixture(stack);
    await stack.deps.sql`update offers set expires_at = now() - interval '1 minute' where id = ${fixture.offer.id}`;
    const page = await new PageClient(stack).get(`/offers/${fixture.reusableToken}`);
    expect(page.status).toBe(410);
    expect(page.html).toContain('expired');
  });

  it('escapes partner-supplied text', async () => {
    const { reusableToken } = await createOfferFixture(stack, { partnerName: '<script>alert(1)</script>' });
    const page = await new PageClient(stack).get(`/offers/${reusableToken}`);
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('accepting', () => {
  it('create the organization, accept, and see the delegation become active', async () => {
    const fixture = await createOfferFixture(stack, { partnerName: 'Northwind' });
    const { token, delegationId } = fixture.links.get('admin@client.example') as {
      token: string;
      delegationId: string;
    };
    const { browser, email } = await newClientOrg(token);
    expect(browser.cookies.get('mandate_session')).toBeTruthy();

    const signedIn = await browser.get(`/offers/${token}`);
    expect(signedIn.html).toContain(`Signed in as ${email}`);
    const accepted = await browser.post(`/offers/${token}/accept`);
    expect(accepted.status).toBe(303);
    expect(accepted.location).toBe(`/offers/${token}`);

    const waiting = await browser.get(`/offers/${token}`);
    expect(waiting.html).toContain('data-state="accepting"');
    expect(waiting.html).toContain('http-equiv="refresh"');
    const [row] = await stack.deps
      .sql`select state, client_org_id, accepted_by from delegations where id = ${delegationId}`;
    expect(row?.state).toBe('accepting');
    expect(row?.client_org_id).toMatch(/^org_/);
    expect(await stack.deps.queues.queue('delegations').getJob(`process-acceptance.${delegationId}`)).toBeTruthy();

    expect(await processAcceptance(stack.deps, delegationId)).toEqual({ outcome: 'activated' });
    const active = await browser.get(`/offers/${token}`);
    expect(active.html).toContain('data-state="active"');
    expect(active.html).toContain('Northwind has access until');
  });

  it('accepting through the reusable link creates the delegation; accepting again changes nothing', async () => {
    const fixture = await createOfferFixture(stack);
    const { browser } = await newClientOrg(fixture.reusableToken);
    expect((await browser.post(`/offers/${fixture.reusableToken}/accept`)).status).toBe(303);
    const rows = await stack.deps
      .sql`select id, state, campaign_id from delegations where offer_id = ${fixture.offer.id} and client_org_id is not null`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'accepting', campaign_id: null });
    const events = await stack.deps
      .sql`select event, from_state, to_state from delegation_events where delegation_id = ${rows[0]?.id as string}`;
    expect(events).toEqual([{ event: 'accept', from_state: null, to_state: 'accepting' }]);

    // The same organization accepts the partner's personal link too: a no-op showing the live one.
    const personal = fixture.links.get('admin@client.example')?.token as string;
    const again = await browser.post(`/offers/${personal}/accept`);
    expect(again.status).toBe(303);
    const shown = await browser.get(again.location as string);
    expect(shown.html).toContain('already has a delegation');
    const live = await stack.deps
      .sql`select count(*)::int as n from delegations where partner_id = ${fixture.partner.partnerId} and state in ('accepting', 'active')`;
    expect(live[0]?.n).toBe(1);
  });

  it('declining needs no account, takes a confirmation that says what it means, and makes the link unusable', async () => {
    const fixture = await createOfferFixture(stack, { partnerName: 'Contoso Partners' });
    const { token, delegationId } = fixture.links.get('admin@client.example') as {
      token: string;
      delegationId: string;
    };
    const state = async () =>
      (await stack.deps.sql`select state from delegations where id = ${delegationId}`)[0]?.state as string;
    const browser = new PageClient(stack);
    const offer = await browser.get(`/offers/${token}`);
    // The offer page's button only asks: it opens the confirmation (a GET, no JavaScript).
    expect(offer.html).toContain(`<form method="get" action="/offers/${token}/decline">`);
    expect(offer.html).not.toContain(`<form method="post" action="/offers/${token}/decline">`);

    const confirmation = await browser.get(`/offers/${token}/decline`);
    expect(confirmation.status).toBe(200);
    expect(confirmation.html).toContain('<h1>Decline the offer from Contoso Partners?</h1>');
    expect(confirmation.html).toContain('Contoso Partners gets no access to your organization');
    expect(confirmation.html).toContain('This link stops working');
    expect(confirmation.html).toContain('Contoso Partners is told that you declined');
    expect(confirmation.html).toContain(`<form method="post" action="/offers/${token}/decline">`);
    expect(confirmation.html).toContain('<input type="hidden" name="confirm" value="yes"/>');
    expect(confirmation.html).toContain(`<a href="/offers/${token}">Back to the offer</a>`);
    expect(await state()).toBe('offered');

    // A post without the confirmation (a page from before, a stray click) only asks again.
    const unconfirmed = await browser.post(`/offers/${token}/decline`);
    expect(unconfirmed.status).toBe(303);
    expect(unconfirmed.location).toBe(`/offers/${token}/decline`);
    expect(await state()).toBe('offered');

    const declined = await browser.post(`/offers/${token}/decline`, { confirm: 'yes' });
    expect(declined.status).toBe(200);
    expect(declined.html).toContain('You declined the offer from Contoso Partners');
    expect(await state()).toBe('declined');
    const after = await browser.get(`/offers/${token}`);
    expect(after.status).toBe(410);
    // Nor is there anything left to confirm.
    expect((await browser.get(`/offers/${token}/decline`)).status).toBe(410);
  });

  it('a shared link has nothing to decline: its confirmation address shows the offer', async () => {
    const { reusableToken } = await createOfferFixture(stack);
    const page = await new PageClient(stack).get(`/offers/${reusableToken}/decline`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('Decline this offer');
    expect(page.html).not.toContain('name="confirm"');
  });
});

describe('refusals', () => {
  it('a wrong password → 401 with a generic message and no session', async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const { email } = await newClientOrg(token);
    for (const attempt of [
      { email, password: 'wrong password here' },
      { email: 'nobody@client.example', password: 'wrong password here' },
    ]) {
      const browser = new PageClient(stack);
      await browser.get(`/offers/${token}`);
      const result = await browser.post(`/offers/${token}/sign-in`, attempt);
      expect(result.status).toBe(401);
      expect(result.html).toContain('The email or password is not right.');
      expect(browser.cookies.has('mandate_session')).toBe(false);
    }
  });

  it('a client user who is not a global admin cannot accept', async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const { email } = await newClientOrg(token);
    await stack.deps.sql`update users set is_global_admin = false where lower(email) = ${email}`;
    const browser = new PageClient(stack);
    await browser.get(`/offers/${token}`);
    await browser.post(`/offers/${token}/sign-in`, { email, password: 'correct horse battery staple' });
    const page = await browser.get(`/offers/${token}`);
    expect(page.html).toContain('not a global administrator');
    expect(page.html).not.toContain('Accept and grant access');
    const accept = await browser.post(`/offers/${token}/accept`);
    expect(accept.status).toBe(403);
  });

  it("a partner's own user cannot accept its offer", async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const browser = new PageClient(stack);
    await browser.get(`/offers/${token}`);
    const signIn = await browser.post(`/offers/${token}/sign-in`, {
      email: fixture.partner.email,
      password: fixture.partner.password,
    });
    expect(signIn.status).toBe(303);
    const accept = await browser.post(`/offers/${token}/accept`);
    expect(accept.status).toBe(403);
    const rows = await stack.deps
      .sql`select count(*)::int as n from delegations where offer_id = ${fixture.offer.id} and state = 'accepting'`;
    expect(rows[0]?.n).toBe(0);
  });

  it('a form without the CSRF token → 403, nothing changed', async () => {
    const fixture = await createOfferFixture(stack);
    const { token, delegationId } = fixture.links.get('admin@client.example') as {
      token: string;
      delegationId: string;
    };
    const browser = new PageClient(stack);
    await browser.get(`/offers/${token}`);
    expect((await browser.post(`/offers/${token}/decline`, { confirm: 'yes' }, null)).status).toBe(403);
    expect((await browser.post(`/offers/${token}/decline`, { confirm: 'yes' }, 'x'.repeat(43))).status).toBe(403);
    expect((await stack.deps.sql`select state from delegations where id = ${delegationId}`)[0]?.state).toBe('offered');
  });

  it('five failures for one account from one address → 429 with Retry-After, until the window passes', async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const { email } = await newClientOrg(token);
    const browser = new PageClient(stack, '10.1.0.1');
    await browser.get(`/offers/${token}`);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      const result = await browser.post(`/offers/${token}/sign-in`, { email, password: `wrong-${i}` });
      statuses.push(result.status);
      last = result.response;
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Even the right password waits out the block from that address…
    const right = await browser.post(`/offers/${token}/sign-in`, { email, password: 'correct horse battery staple' });
    expect(right.status).toBe(429);
    // …while the person, from elsewhere, is not locked out by someone else's guesses.
    const elsewhere = new PageClient(stack, '10.1.0.2');
    await elsewhere.get(`/offers/${token}`);
    expect(
      (await elsewhere.post(`/offers/${token}/sign-in`, { email, password: 'correct horse battery staple' })).status,
    ).toBe(303);
  });

  it('guesses spread over many addresses are capped per account', async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const { email } = await newClientOrg(token);
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const browser = new PageClient(stack, `10.3.0.${i + 1}`);
      await browser.get(`/offers/${token}`);
      statuses.push((await browser.post(`/offers/${token}/sign-in`, { email, password: `wrong-${i}` })).status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
  });

  it('parallel guesses cannot slip past the limit', async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const { email } = await newClientOrg(token);
    const browser = new PageClient(stack, '10.4.0.1');
    await browser.get(`/offers/${token}`);
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => browser.post(`/offers/${token}/sign-in`, { email, password: `wrong-${i}` })),
    );
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(10);
  });

  it('too many attempts from one address → 429', async () => {
    const fixture = await createOfferFixture(stack);
    const token = fixture.reusableToken;
    const browser = new PageClient(stack, '10.2.0.1');
    await browser.get(`/offers/${token}`);
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      statuses.push(
        (await browser.post(`/offers/${token}/sign-in`, { email: `u${i}@client.example`, password: 'x' })).status,
      );
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.at(-1)).toBe(429);
  });
});
