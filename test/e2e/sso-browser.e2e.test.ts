import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { SSO_CALLBACK_PATH } from '../../core/single-sign-on.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createStaffMember, signedInClient } from '../helpers/dashboard.ts';
import { type DnsTestServer, startDnsServer, type TxtZone } from '../helpers/dns-server.ts';
import { createTestPartner } from '../helpers/factories.ts';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.ts';
import { freePort } from '../helpers/processes.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';
import { enrolTotp, totpCode } from '../helpers/two-factor.ts';

/**
 * Single sign-on in a real browser: a partner's owner sets up the provider on the
 * dashboard page, and a staff member signs in through the provider's own login and consent
 * pages (oidc-provider, in this process on localhost; Mandate on 127.0.0.1 — two sites),
 * landing on the dashboard. Screenshots in test-results/.
 */
let stack: TestStack;
let server: RunningServer;
let browser: Browser;
let idp: TestIdentityProvider;
let base: string;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `sso-${name}.png`), fullPage: true });

/** A browser that reaches nothing but this machine (the provider's page imports a web font). */
async function localContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(/^https?:\/\/(?!localhost[:/]|127\.0\.0\.1[:/])/, (route) => route.abort());
  return context;
}

/** The DNS the partner publishes its domain's proof in. */
const zone: TxtZone = {};
let dns: DnsTestServer;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dns = await startDnsServer(zone);
  stack = await createTestStack({
    env: { PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1', DNS_SERVERS: dns.address },
  });
  server = await startServer(stack.app, stack.config);
  idp = await startIdentityProvider({ redirectUri: `${base}${SSO_CALLBACK_PATH}` });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await server?.close();
  await stack?.close();
  await dns?.close();
});

describe('single sign-on in a browser', () => {
  it("an owner sets it up; a staff member signs in at the provider's own page and lands on the dashboard", async () => {
    const owner = await createTestPartner(stack, 'Fabrikam IT');
    const domain = 'fabrikam-it.example';

    // The owner has two-factor sign-in (changing sign-in settings needs a recent second
    // factor), signs in with password and code, and sets up the provider.
    const { secret, step } = await enrolTotp(await signedInClient(stack, owner.userId));
    const ownerContext = await localContext();
    const ownerPage = await ownerContext.newPage();
    await ownerPage.goto(`${base}/sign-in?next=/dashboard`);
    await ownerPage.getByLabel('Email').fill(owner.email);
    await ownerPage.getByLabel('Password').fill(owner.password);
    await ownerPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await ownerPage.getByLabel('Code from your app, or a recovery code').fill(totpCode(secret, step + 1));
    await ownerPage.getByRole('button', { name: 'Continue', exact: true }).click();
    await ownerPage.getByRole('heading', { name: 'Overview' }).waitFor();
    await ownerPage.getByRole('link', { name: 'Single sign-on' }).click();
    await ownerPage.getByTestId('sso-status').filter({ hasText: 'not set up' }).waitFor();
    await expect(ownerPage.getByTestId('sso-redirect-uri').textContent()).resolves.toBe(`${base}${SSO_CALLBACK_PATH}`);
    await ownerPage.getByLabel('Issuer URL').fill(idp.issuer);
    await ownerPage.getByLabel('Client ID').fill(idp.clientId);
    await ownerPage.getByLabel('Client secret').fill(idp.clientSecret);
    await ownerPage.getByLabel('Staff email domain').fill(domain);
    await ownerPage.getByRole('button', { name: 'Save' }).click();
    await ownerPage.getByTestId('sso-status').filter({ hasText: 'Single sign-on is on.' }).waitFor();
    expect(await ownerPage.content()).not.toContain(idp.clientSecret);
    // The domain is proven by a TXT record the owner publishes, then checks from the page.
    const name = (await ownerPage.getByTestId('sso-txt-name').textContent()) as string;
    const value = (await ownerPage.getByTestId('sso-txt-value').textContent()) as string;
    zone[name] = () => [value];
    await ownerPage.getByRole('button', { name: 'Check the record' }).click();
    await ownerPage.getByTestId('sso-domain-status').filter({ hasText: 'Proven on' }).waitFor();
    await shot(ownerPage, '1-settings');

    // A staff member at that domain, and their account at the provider.
    const email = `lee@${domain}`;
    const { userId } = await createStaffMember(stack, owner.token, 'limited', { email });
    await stack.deps.sql`delete from sessions where user_id = ${userId}`; // joined, then signed out
    idp.accounts.set('lee-at-idp', { email, email_verified: true });

    const context = await localContext();
    const page = await context.newPage();
    await page.goto(`${base}/sign-in?next=/dashboard`);
    await page.getByLabel('Work address').fill(email);
    await shot(page, '2-sign-in');
    await page.getByRole('button', { name: 'Continue with single sign-on' }).click();

    // The provider's own login page, the address offered as the login hint.
    const login = page.locator('input[name=login]');
    await login.waitFor();
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await expect(login.inputValue()).resolves.toBe(email);
    await login.fill('lee-at-idp');
    await page.locator('input[name=password]').fill('any password');
    await shot(page, '3-provider-login');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    // Its consent page, then back to Mandate.
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(page.url()).toBe(`${base}/dashboard`);
    await expect(page.getByRole('link', { name: email }).count()).resolves.toBe(1);
    await shot(page, '4-dashboard');

    const [session] = await stack.deps.sql`select sign_in_method from sessions where user_id = ${userId}`;
    expect(session?.sign_in_method).toBe('sso');
    const [link] = await stack.deps.sql`select subject from sso_links where user_id = ${userId}`;
    expect(link?.subject).toBe('lee-at-idp');
    await context.close();
    await ownerContext.close();
  }, 60_000);
});
