import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../core/errors.ts';
import { SSO_CALLBACK_PATH, ssoRefusalMessage } from '../../../core/single-sign-on.ts';
import { saveSsoSettings } from '../../../services/accounts/single-sign-on-settings.ts';
import { findStaffPrincipal, type PartnerPrincipal } from '../../../services/shared/principals.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient, stepUp } from '../../helpers/dashboard.ts';
import { type DnsTestServer, startDnsServer, type TxtZone } from '../../helpers/dns-server.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { signInAtProvider, startIdentityProvider, type TestIdentityProvider } from '../../helpers/oidc-provider.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { enrolTotp, totpCode } from '../../helpers/two-factor.ts';

/**
 * Single sign-on against a real OpenID provider (oidc-provider, in this process on
 * loopback), its login and consent pages driven over HTTP; Mandate in-process. Each test
 * has a partner of its own with its own staff domain.
 */
let stack: TestStack;
let idp: TestIdentityProvider;
const redirectUri = `http://mandate.test${SSO_CALLBACK_PATH}`;

/** TXT records a partner publishes to prove its staff domain (filled by the test that needs one). */
const zone: TxtZone = {};
let dns: DnsTestServer;

beforeAll(async () => {
  dns = await startDnsServer(zone);
  stack = await createTestStack({ env: { DNS_SERVERS: dns.address } });
  idp = await startIdentityProvider({ redirectUri });
});
afterAll(async () => {
  await idp?.close();
  await stack?.close();
  await dns?.close();
});

/** A message as hono/jsx writes it into the page. */
const escaped = (text: string) => text.replaceAll("'", '&#39;');

/** A partner whose owner set up single sign-on with `provider` on the dashboard page, for a domain of its own. */
async function partnerWithSso(provider: TestIdentityProvider = idp, options: { verified?: boolean } = {}) {
  const tag = randomBytes(4).toString('hex');
  const partnerName = `Partner ${tag}`;
  const partner = await createTestPartner(stack, partnerName);
  const domain = `p${tag}.example`;
  const owner = await signedInClient(stack, partner.userId);
  await stepUp(owner); // as if just confirmed with a second factor (the step-up has its own tests)
  const saved = await owner.post('/dashboard/single-sign-on', {
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    emailDomain: domain,
  });
  expect(saved.status, saved.html).toBe(303);
  if (options.verified ?? true) {
    // As if its TXT record had been published and checked (the verification has tests of its own).
    await stack.deps.sql`update sso_providers set domain_verified_at = now() where partner_id = ${partner.partnerId}`;
  }
  return { partner, partnerName, domain, owner };
}

/** A staff member of the partner at the address given, invited by the owner through the API (and joined). */
async function addStaff(partner: { token: string }, email: string): Promise<string> {
  const { userId } = await createStaffMember(stack, partner.token, 'limited', { email });
  // Joining signed them in; they signed out since (the tests count sessions).
  await stack.deps.sql`delete from sessions where user_id = ${userId}`;
  return userId;
}

/** Chooses single sign-on on the sign-in page; returns the address the page sends the browser on to. */
async function startSso(browser: PageClient, email: string): Promise<string> {
  await browser.get('/sign-in');
  const started = await browser.post('/sign-in/sso', { email, next: '/dashboard' });
  expect(started.status, started.html).toBe(200);
  const href = /href="([^"]+)"[^>]*data-testid="sso-continue"/.exec(started.html)?.[1];
  if (!href) throw new Error(`no link to the provider: ${started.html.slice(0, 400)}`);
  return href.replaceAll('&amp;', '&');
}

/** The callback as the browser would follow it, relative to Mandate. */
const local = (url: URL) => `${url.pathname}${url.search}`;

async function ssoAudit(partnerId: string) {
  return stack.deps.sql`
    select action, outcome, actor_user_id, detail from audit_events
    where partner_id = ${partnerId} and action like 'sso.%' and action <> 'sso.configure' order by id`;
}

async function linksOf(userId: string) {
  return stack.deps.sql`select issuer, subject from sso_links where user_id = ${userId}`;
}

async function sessionsOf(userId: string) {
  return stack.deps.sql`select sign_in_method, second_factor_at from sessions where user_id = ${userId}`;
}

describe('in production, an identity provider on this network', () => {
  it('is refused before anything is fetched: the issuer must be a public https address', async () => {
    const partner = await createTestPartner(stack);
    const principal = await findStaffPrincipal(stack.deps.db, partner.userId);
    const production = { ...stack.deps, config: { ...stack.config, env: 'production' as const } };
    for (const issuer of ['https://127.0.0.1:9', 'https://localhost:9', 'https://[::1]:9', 'https://10.0.0.1']) {
      const refused = await saveSsoSettings(production, principal as PartnerPrincipal, {
        issuer,
        clientId: 'x',
        clientSecret: 'y',
        emailDomain: 'prod.example',
      }).catch((error: unknown) => error);
      expect(isAppError(refused, 'VALIDATION_FAILED'), issuer).toBe(true);
      expect((refused as Error).message, issuer).toMatch(/not on the public internet/);
    }
    const [row] = await stack.deps
      .sql`select count(*)::int as n from sso_providers where partner_id = ${partner.partnerId}`;
    expect(row?.n).toBe(0);
  });
});

describe('a staff domain is used only once its owner has proven it', () => {
  it('by a TXT record: until then no sign-in starts there, and another partner cannot take it', async () => {
    const { partner, domain, owner } = await partnerWithSso(idp, { verified: false });
    const page = await owner.get('/dashboard/single-sign-on');
    const name = /data-testid="sso-txt-name">([^<]+)</.exec(page.html)?.[1];
    const value = /data-testid="sso-txt-value">([^<]+)</.exec(page.html)?.[1];
    expect(name).toBe(`_mandate-sso.${domain}`);
    expect(value).toMatch(/^mandate-sso=[A-Za-z0-9_-]{43}$/);

    // Not proven: the sign-in form answers as for a domain without single sign-on.
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    const early = await browser.post('/sign-in/sso', { email: `lee@${domain}`, next: '/dashboard' });
    expect(early.html).not.toContain('data-testid="sso-continue"');

    // Another partner may claim the same domain, but cannot prove it with its own record.
    const squatter = await createTestPartner(stack);
    const squatterOwner = await signedInClient(stack, squatter.userId);
    await stepUp(squatterOwner);
    const claimed = await squatterOwner.post('/dashboard/single-sign-on', {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      emailDomain: domain,
    });
    expect(claimed.status).toBe(303);

    const missing = await owner.post('/dashboard/single-sign-on/verify');
    expect(missing.status).toBe(422);
    zone[(name as string).toLowerCase()] = () => [value as string];
    const proven = await owner.post('/dashboard/single-sign-on/verify');
    expect(proven.status).toBe(303);
    const squatterTry = await squatterOwner.post('/dashboard/single-sign-on/verify');
    expect(squatterTry.status).toBe(422); // the record published is the owner's, not theirs

    const started = await browser.post('/sign-in/sso', { email: `lee@${domain}`, next: '/dashboard' });
    expect(started.html).toContain('data-testid="sso-continue"');
    const [row] = await stack.deps.sql`
      select partner_id from sso_providers where lower(email_domain) = ${domain} and domain_verified_at is not null`;
    expect(row?.partner_id).toBe(partner.partnerId);
  });
});

describe('the owners set up single sign-on', () => {
  it('saves the provider after discovery, shows the redirect URI, keeps the secret sealed and never shows it', async () => {
    const { partner, domain, owner } = await partnerWithSso();
    const page = await owner.get('/dashboard/single-sign-on');
    expect(page.status).toBe(200);
    expect(page.html).toContain(`data-testid="sso-redirect-uri">${redirectUri}<`);
    expect(page.html).toContain('Single sign-on is on.');
    expect(page.html).toContain(`value="${domain}"`);
    expect(page.html).not.toContain(idp.clientSecret);
    const [row] = await stack.deps.sql`
      select issuer, client_secret_sealed, server_metadata->>'token_endpoint' as token_endpoint
      from sso_providers where partner_id = ${partner.partnerId}`;
    expect(row?.issuer).toBe(idp.issuer);
    expect(String(row?.client_secret_sealed)).toMatch(/^v1\./);
    expect(String(row?.client_secret_sealed)).not.toContain(idp.clientSecret);
    expect(row?.token_endpoint).toBe(`${idp.issuer}/token`);
    const [audit] = await stack.deps.sql`
      select actor_user_id, detail from audit_events where partner_id = ${partner.partnerId} and action = 'sso.configure'`;
    expect(audit?.actor_user_id).toBe(partner.userId);
    expect(audit?.detail).toMatchObject({ issuer: idp.issuer, emailDomain: domain, secretChanged: true });
    expect(JSON.stringify(audit?.detail)).not.toContain(idp.clientSecret);

    // Saved again without a secret: the sealed one stays.
    const again = await owner.post('/dashboard/single-sign-on', {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: '',
      emailDomain: domain,
    });
    expect(again.status).toBe(303);
    const [kept] = await stack.deps
      .sql`select client_secret_sealed from sso_providers where partner_id = ${partner.partnerId}`;
    expect(kept?.client_secret_sealed).toBe(row?.client_secret_sealed);
  });

  it('refuses plain http outside loopback, an issuer that cannot be discovered, and a staff member who is not an owner', async () => {
    const partner = await createTestPartner(stack);
    const owner = await signedInClient(stack, partner.userId);
    await stepUp(owner); // as if just confirmed with a second factor (the step-up has its own tests)
    const fields = { clientId: 'x', clientSecret: 'y', emailDomain: `p${randomBytes(4).toString('hex')}.example` };
    const http = await owner.post('/dashboard/single-sign-on', { ...fields, issuer: 'http://idp.example.com' });
    expect(http.status).toBe(422);
    expect(http.html).toContain('must start with https://');
    const nothing = await owner.post('/dashboard/single-sign-on', { ...fields, issuer: 'http://127.0.0.1:9' });
    expect(nothing.status).toBe(422);
    expect(nothing.html).toContain('Could not read the OpenID Connect discovery document');
    const [row] = await stack.deps
      .sql`select count(*)::int as n from sso_providers where partner_id = ${partner.partnerId}`;
    expect(row?.n).toBe(0);

    const staffId = await addStaff(partner, `someone-${randomBytes(3).toString('hex')}@partner.example`);
    const staff = await signedInClient(stack, staffId);
    expect((await staff.get('/dashboard/single-sign-on')).status).toBe(403);
    expect((await staff.post('/dashboard/single-sign-on', { ...fields, issuer: idp.issuer })).status).toBe(403);
  });
});

describe('signing in through the identity provider', () => {
  it('links a staff member whose verified address matches, then signs them in by the link', async () => {
    const { partner, domain } = await partnerWithSso();
    const email = `ada@${domain}`;
    const userId = await addStaff(partner, email);
    const login = `sub-${randomBytes(4).toString('hex')}`;
    idp.accounts.set(login, { email, email_verified: true });

    const browser = new PageClient(stack);
    const callback = await signInAtProvider(await startSso(browser, email), login);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const done = await browser.get(local(callback));
    expect(done.status).toBe(303);
    expect(done.response.headers.get('location')).toBe('/dashboard');
    expect((await browser.get('/dashboard')).status).toBe(200);
    expect(await linksOf(userId)).toEqual([{ issuer: idp.issuer, subject: login }]);
    expect(await sessionsOf(userId)).toEqual([{ sign_in_method: 'sso', second_factor_at: null }]);

    // Later the provider no longer vouches for the address: the link, not the address, signs in.
    idp.accounts.set(login, { email: `ada.renamed@${domain}`, email_verified: false });
    const later = new PageClient(stack);
    const second = await later.get(local(await signInAtProvider(await startSso(later, email), login)));
    expect(second.response.headers.get('location')).toBe('/dashboard');

    const audit = await ssoAudit(partner.partnerId);
    expect(audit.map((a) => [a.action, a.outcome, a.actor_user_id])).toEqual([
      ['sso.link', 'succeeded', userId],
      ['sso.sign_in', 'succeeded', userId],
      ['sso.sign_in', 'succeeded', userId],
    ]);
    expect(audit[1]?.detail).toMatchObject({ firstLink: true, subject: login });
    expect(audit[2]?.detail).toMatchObject({ firstLink: false });
    // The account is told of the link, once (the later sign-in makes none).
    const mails = await stack.deps
      .sql`select subject from emails where kind = 'sso-link' and lower(to_email) = ${email}`;
    expect(mails.map((m) => m.subject)).toEqual([`Single sign-on was linked to ${email}`]);
  });

  it('reads the address from userinfo when the ID token does not carry it', async () => {
    const other = await startIdentityProvider({ redirectUri, emailInIdToken: false });
    try {
      const { partner, domain } = await partnerWithSso(other);
      const email = `grace@${domain}`;
      const userId = await addStaff(partner, email);
      other.accounts.set('grace', { email, email_verified: true });
      const browser = new PageClient(stack);
      const done = await browser.get(local(await signInAtProvider(await startSso(browser, email), 'grace')));
      expect(done.response.headers.get('location')).toBe('/dashboard');
      expect(await linksOf(userId)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('goes on to the second step for a staff member with two-factor sign-in', async () => {
    const { partner, domain } = await partnerWithSso();
    const email = `tess@${domain}`;
    const userId = await addStaff(partner, email);
    const { secret, step } = await enrolTotp(await signedInClient(stack, userId));
    await stack.deps.sql`delete from sessions where user_id = ${userId}`;
    idp.accounts.set('tess', { email, email_verified: true });

    const browser = new PageClient(stack);
    const done = await browser.get(local(await signInAtProvider(await startSso(browser, email), 'tess')));
    expect(done.status).toBe(303);
    expect(done.response.headers.get('location')).toBe('/sign-in/two-factor?next=%2Fdashboard');
    expect(await sessionsOf(userId)).toEqual([]);
    expect((await browser.get('/dashboard')).status).toBe(303);

    const code = await browser.post('/sign-in/two-factor', { code: totpCode(secret, step + 1), next: '/dashboard' });
    expect(code.location).toBe('/dashboard');
    const [session] = await sessionsOf(userId);
    expect(session?.sign_in_method).toBe('sso');
    expect(session?.second_factor_at).not.toBeNull();
  });

  it('answers an address without single sign-on alike, whether or not it has an account', async () => {
    const partner = await createTestPartner(stack);
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    const known = await browser.post('/sign-in/sso', { email: partner.email });
    const unknown = await browser.post('/sign-in/sso', {
      email: `nobody-${randomBytes(3).toString('hex')}@partner.example`,
    });
    expect(known.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(known.html).toContain('There is no single sign-on for this address');
    expect(unknown.html.replace(/value="[^"]*"/g, '')).toBe(known.html.replace(/value="[^"]*"/g, ''));
    expect(browser.cookies.has('mandate_sso')).toBe(false);
  });
});

describe('starts are limited per client address', () => {
  it('refuses the 31st start from one address within the quarter hour', async () => {
    const browser = new PageClient(stack, `198.51.100.${Math.floor(Math.random() * 250) + 1}`);
    await browser.get('/sign-in');
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++)
      statuses.push((await browser.post('/sign-in/sso', { email: 'x@nowhere.example' })).status);
    expect(statuses.slice(0, 30).every((s) => s === 400)).toBe(true);
    expect(statuses[30]).toBe(429);
  });
});

describe('refused callbacks change nothing and are recorded', () => {
  /** A partner with SSO, a staff member at its domain and their account at the provider. */
  async function staffAtProvider(emailVerified: boolean | string = true) {
    const setup = await partnerWithSso();
    const email = `sam-${randomBytes(3).toString('hex')}@${setup.domain}`;
    const userId = await addStaff(setup.partner, email);
    const login = `sub-${randomBytes(4).toString('hex')}`;
    idp.accounts.set(login, { email, email_verified: emailVerified });
    return { ...setup, email, userId, login };
  }

  async function expectNothingChanged(userId: string) {
    expect(await linksOf(userId)).toEqual([]);
    expect(await sessionsOf(userId)).toEqual([]);
  }

  it('an address the provider has not verified (nor one it calls "true" in a string)', async () => {
    for (const verified of [false, 'true'] as const) {
      const s = await staffAtProvider(verified);
      const browser = new PageClient(stack);
      const refused = await browser.get(local(await signInAtProvider(await startSso(browser, s.email), s.login)));
      expect(refused.status).toBe(401);
      expect(refused.html).toContain('has not verified your email address');
      await expectNothingChanged(s.userId);
      expect(browser.cookies.has('mandate_session')).toBe(false);
      const [audit] = await ssoAudit(s.partner.partnerId);
      expect(audit).toMatchObject({ action: 'sso.sign_in', outcome: 'rejected', actor_user_id: null });
      expect(audit?.detail).toMatchObject({ reason: 'email_unverified', email: s.email, subject: s.login });
    }
  });

  it('a wrong state', async () => {
    const s = await staffAtProvider();
    const browser = new PageClient(stack);
    const callback = await signInAtProvider(await startSso(browser, s.email), s.login);
    callback.searchParams.set('state', 'not-the-state');
    const refused = await browser.get(local(callback));
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('does not belong to this sign-in');
    await expectNothingChanged(s.userId);
    expect((await ssoAudit(s.partner.partnerId))[0]?.detail).toMatchObject({ reason: 'state_mismatch' });
  });

  it('an ID token for another nonce (the authorization request tampered with)', async () => {
    const s = await staffAtProvider();
    const browser = new PageClient(stack);
    const authorization = new URL(await startSso(browser, s.email));
    authorization.searchParams.set('nonce', 'a-nonce-of-the-attacker');
    const refused = await browser.get(local(await signInAtProvider(authorization.href, s.login)));
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('The identity token does not belong to this sign-in');
    await expectNothingChanged(s.userId);
    expect((await ssoAudit(s.partner.partnerId))[0]?.detail).toMatchObject({ reason: 'nonce_mismatch' });
  });

  it("a code from another browser's sign-in (PKCE)", async () => {
    const s = await staffAtProvider();
    const victim = new PageClient(stack);
    const attacker = new PageClient(stack);
    const attackers = new URL(await startSso(attacker, s.email));
    const victims = new URL(await startSso(victim, s.email));
    // The attacker's code, with the victim's state, delivered to the victim's browser.
    const callback = await signInAtProvider(attackers.href, s.login);
    callback.searchParams.set('state', victims.searchParams.get('state') ?? '');
    const refused = await victim.get(local(callback));
    expect(refused.status).toBe(401);
    await expectNothingChanged(s.userId);
    expect((await ssoAudit(s.partner.partnerId))[0]?.detail).toMatchObject({ reason: 'invalid_response' });
  });

  it('an answer from another issuer than the one configured', async () => {
    const s = await staffAtProvider();
    const impostor = await startIdentityProvider({
      redirectUri,
      client: { clientId: idp.clientId, clientSecret: idp.clientSecret },
    });
    try {
      impostor.accounts.set(s.login, { email: s.email, email_verified: true });
      const browser = new PageClient(stack);
      const authorization = new URL(await startSso(browser, s.email));
      const atImpostor = new URL(`${authorization.pathname}${authorization.search}`, impostor.issuer);
      const refused = await browser.get(local(await signInAtProvider(atImpostor.href, s.login)));
      expect(refused.status).toBe(401);
      expect(refused.html).toContain('did not come from the identity provider your organization configured');
      await expectNothingChanged(s.userId);
      expect((await ssoAudit(s.partner.partnerId))[0]?.detail).toMatchObject({ reason: 'issuer_mismatch' });
    } finally {
      await impostor.close();
    }
  });

  it('a provider turned off since the sign-in started, and starts while it is off', async () => {
    const s = await staffAtProvider();
    const browser = new PageClient(stack);
    const callback = await signInAtProvider(await startSso(browser, s.email), s.login);
    expect((await s.owner.post('/dashboard/single-sign-on/enabled', { enabled: 'off' })).location).toBe(
      '/dashboard/single-sign-on?notice=sso-off',
    );
    const refused = await browser.get(local(callback));
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('Single sign-on is turned off for your organization');
    await expectNothingChanged(s.userId);
    expect((await ssoAudit(s.partner.partnerId)).map((a) => [a.action, a.detail?.reason])).toEqual([
      ['sso.disable', undefined],
      ['sso.sign_in', 'provider_disabled'],
    ]);
    await browser.get('/sign-in');
    expect((await browser.post('/sign-in/sso', { email: s.email })).status).toBe(400);
  });

  it('a callback replayed, and one whose sign-in has expired', async () => {
    const s = await staffAtProvider();
    const browser = new PageClient(stack);
    const callback = await signInAtProvider(await startSso(browser, s.email), s.login);
    const cookie = browser.cookies.get('mandate_sso') as string;
    expect((await browser.get(local(callback))).status).toBe(303);
    const sessions = await sessionsOf(s.userId);

    const replay = new PageClient(stack);
    replay.cookies.set('mandate_sso', cookie);
    const refused = await replay.get(local(callback));
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('already been used');
    expect(await sessionsOf(s.userId)).toEqual(sessions);

    const late = new PageClient(stack);
    const lateCallback = await signInAtProvider(await startSso(late, s.email), s.login);
    await stack.deps.sql`update sso_sign_ins set expires_at = now() - interval '1 second' where used_at is null
      and id = encode(sha256(${late.cookies.get('mandate_sso') as string}::bytea), 'hex')`;
    const expired = await late.get(local(lateCallback));
    expect(expired.status).toBe(400);
    expect(expired.html).toContain('has expired');
    expect(await sessionsOf(s.userId)).toEqual(sessions);

    const reasons = (await ssoAudit(s.partner.partnerId)).map((a) => a.detail?.reason ?? a.action);
    expect(reasons).toEqual(['sso.link', 'sso.sign_in', 'replayed', 'expired']);
  });

  it('a verified address with no staff account at that partner (nor one of another organization)', async () => {
    const s = await staffAtProvider();
    // An account with an address at the domain, but of another partner: never linked.
    const elsewhere = await createTestPartner(stack);
    const outsider = `outsider@${s.domain}`;
    await addStaff(elsewhere, outsider);
    for (const email of [outsider, `nobody@${s.domain}`]) {
      idp.accounts.set(`sub-${email}`, { email, email_verified: true });
      const browser = new PageClient(stack);
      const refused = await browser.get(local(await signInAtProvider(await startSso(browser, email), `sub-${email}`)));
      expect(refused.status).toBe(401);
      expect(refused.html).toContain(escaped(ssoRefusalMessage('no_account', s.partnerName)));
    }
    const [row] = await stack.deps.sql`select count(*)::int as n from sso_links where provider_id in
      (select id from sso_providers where partner_id = ${s.partner.partnerId})`;
    expect(row?.n).toBe(0);
  });

  it("a verified address of the partner's staff, but not at the domain set up for single sign-on", async () => {
    const s = await staffAtProvider();
    // The owner's address is at partner.example: the provider vouching for it links nothing.
    idp.accounts.set(`sub-owner-${s.partner.userId}`, { email: s.partner.email, email_verified: true });
    const browser = new PageClient(stack);
    const refused = await browser.get(
      local(await signInAtProvider(await startSso(browser, s.email), `sub-owner-${s.partner.userId}`)),
    );
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('not at the domain your organization set up');
    expect(await linksOf(s.partner.userId)).toEqual([]);
    expect(browser.cookies.has('mandate_session')).toBe(false);
    expect((await ssoAudit(s.partner.partnerId))[0]?.detail).toMatchObject({ reason: 'domain_mismatch' });
  });

  it('a person who cancels at the provider', async () => {
    const s = await staffAtProvider();
    const browser = new PageClient(stack);
    const callback = await signInAtProvider(await startSso(browser, s.email), s.login, { cancel: true });
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const refused = await browser.get(local(callback));
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('Your identity provider did not sign you in.');
    await expectNothingChanged(s.userId);
    expect((await ssoAudit(s.partner.partnerId))[0]?.detail).toMatchObject({ reason: 'provider_error' });
  });

  it('no sign-in started in this browser', async () => {
    const browser = new PageClient(stack);
    const refused = await browser.get(`${SSO_CALLBACK_PATH}?code=abc&state=def`);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('was not started in this browser');
  });
});
