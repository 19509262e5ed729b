import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { findStaffPrincipal } from '../../services/shared/principals.ts';
import { createWebhookEndpoint, sendWebhookTest } from '../../services/webhooks/endpoints.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { signedInClient } from '../helpers/dashboard.ts';
import { activateDelegation, createOfferFixture, type OfferFixture } from '../helpers/offer-fixtures.ts';
import { freePort } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * An operator's work done from the console in a real browser, on a desktop screen and on
 * a 390 px phone: sign in, find a client by company, open its page, add a user, reset a
 * password, add a domain, and read each operation's result in words. No page may scroll
 * sideways on the phone. Screenshots land in test-results/screenshots/.
 */
let stack: TestStack;
let sink: SmtpSink;
let server: RunningServer;
let browser: Browser;
let base: string;

const screens = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
type Screen = keyof typeof screens;

beforeAll(async () => {
  sink = await startSmtpSink();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({
    env: { SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' },
    workers: true,
  });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
  await sink?.close();
});

/** The page's width beyond the viewport's: 0 when nothing scrolls sideways. */
const sideways = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

/** Takes the screenshot and, on the phone, checks the page does not scroll sideways. */
async function look(page: Page, screen: Screen, name: string) {
  await page.screenshot({ path: join(screenshotDir, `console-${screen}-${name}.png`), fullPage: true });
  expect(await sideways(page), `${name} on the ${screen} scrolls sideways`).toBeLessThanOrEqual(0);
}

/** Opens the nav (a menu on the phone) and follows `label`. */
async function navigate(page: Page, screen: Screen, label: string) {
  if (screen === 'phone') await page.locator('label.menu-toggle').click();
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: label, exact: true }).click();
}

async function signIn(page: Page, fixture: OfferFixture) {
  await page.goto(`${base}/dashboard`);
  await page.getByLabel('Email').fill(fixture.partner.email);
  await page.getByLabel('Password').fill(fixture.partner.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** Waits until the page (refreshed live) says `text`. */
const says = (page: Page, text: string | RegExp) =>
  page.locator('main').getByText(text).first().waitFor({ timeout: 30_000 });

describe.each(Object.keys(screens) as Screen[])('the console on a %s', (screen) => {
  it('create an offer, upload a 500-row CSV campaign, see the refused rows before sending, watch it finish', async () => {
    const fixture = await createOfferFixture(stack, { partnerName: `Contoso IT ${screen}` });
    const context = await browser.newContext({ viewport: screens[screen] });
    const page = await context.newPage();
    try {
      await signIn(page, fixture);
      await navigate(page, screen, 'Offers');
      await page.getByLabel('Name (what your clients read)').fill(`Managed IT ${screen}`);
      await page.locator('#role-user_admin').check();
      await page.locator('#role-domain_admin').check();
      await look(page, screen, 'offer-form');
      await page.getByRole('button', { name: 'Create the offer' }).click();
      await expect(page.getByTestId('offer-link').inputValue()).resolves.toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/offers\//,
      );
      await look(page, screen, 'offer');

      await page.getByRole('link', { name: 'Send this offer to a list of recipients…' }).click();
      const rows = Array.from({ length: 500 }, (_, i) => `client-${screen}-${i}@client.example,Admin ${i},Client ${i}`);
      const csv = [
        'email,name,company',
        ...rows,
        'not-an-address,Broken,Row',
        `client-${screen}-7@client.example,Twice,Again`,
      ];
      await page.getByLabel('Recipients (CSV)').setInputFiles({
        name: 'clients.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(`${csv.join('\n')}\n`),
      });
      await page.getByRole('button', { name: 'Upload and check' }).click();
      const send = page.getByRole('button', { name: 'Send to 500 recipients' });
      await send.waitFor();
      await says(page, 'not-an-address');
      await look(page, screen, 'upload-checked');
      await send.click();
      await page.getByTestId('campaign-status').filter({ hasText: 'Done' }).waitFor({ timeout: 90_000 });
      await expect(page.getByTestId('campaign-progress').textContent()).resolves.toBe(
        '500 of 500 recipients handled (100%)',
      );
      await look(page, screen, 'campaign-done');
      // The mail server's own count: each of the 500 once.
      const got = sink.messages.flatMap((m) => m.to).filter((to) => to.startsWith(`client-${screen}-`));
      expect(new Set(got).size).toBe(500);
      expect(got).toHaveLength(500);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('find a client by company, add a user, reset a password, add a domain: each result in words', async () => {
    const company = `Tailspin ${screen}`;
    const fixture = await createOfferFixture(stack, {
      partnerName: `Woodgrove ${screen}`,
      offer: { access: 'full', durationDays: 365 },
    });
    await activateDelegation(stack, fixture, 'admin@client.example', company);
    const context = await browser.newContext({ viewport: screens[screen] });
    const page = await context.newPage();
    try {
      await signIn(page, fixture);
      await look(page, screen, 'overview');

      await navigate(page, screen, 'Search');
      await page.getByLabel('Client email, company, organization or domain').fill(company.toLowerCase());
      await page.getByRole('button', { name: 'Search' }).click();
      await look(page, screen, 'search');
      await page.getByRole('link', { name: company }).click();
      await page.getByRole('heading', { name: company }).waitFor();
      await look(page, screen, 'client');

      const addUser = page.getByRole('form', { name: 'Add a user' });
      await addUser.getByLabel('Name', { exact: true }).fill('Jordan Lee');
      await addUser.getByLabel('User name or address').fill('jordan');
      // The page refreshes its live parts every 3 s: what is typed in a form survives it.
      await page.locator('[data-live-status]').getByText('Updated').waitFor({ timeout: 10_000 });
      expect(await addUser.getByLabel('Name', { exact: true }).inputValue()).toBe('Jordan Lee');
      await addUser.getByRole('button', { name: 'Add user' }).click();
      await says(page, 'Queued.');
      await says(page, /Created jordan@\S+ — temporary password sent to/);
      await page.reload();
      await look(page, screen, 'user-added');

      await page.getByRole('button', { name: /^Reset the password of jordan@/ }).click();
      await says(page, /Reset the password of jordan@\S+ — temporary password sent to/);

      const addDomain = page.getByRole('form', { name: 'Add a domain' });
      await addDomain.getByLabel('Domain name').fill(`${screen}.tailspin.example`);
      await addDomain.getByRole('button', { name: 'Add domain' }).click();
      await says(page, new RegExp(`Added ${screen}\\.tailspin\\.example, not verified yet: publish a TXT record`));
      await page.reload();
      await look(page, screen, 'domain-added');

      // Each operation's own page says the same in words, with who asked.
      await page
        .getByRole('link', { name: /^Created jordan@/ })
        .first()
        .click();
      await says(page, fixture.partner.email);
      await look(page, screen, 'operation');

      await navigate(page, screen, 'Operations');
      await says(page, /Reset the password of jordan@/);
      await look(page, screen, 'operations');
      await navigate(page, screen, 'Delegations');
      await look(page, screen, 'delegations');
      // A webhook whose delivery failed with a long answer: its page must fit the screen too.
      const owner = await findStaffPrincipal(stack.deps.db, fixture.partner.userId);
      if (!owner) throw new Error('the owner is not staff');
      const webhook = await createWebhookEndpoint(stack.deps, owner, {
        url: `https://93.184.215.14/hooks/${'mandate-events-'.repeat(6)}${screen}`,
        events: ['delegation.activated', 'operation.failed'],
      });
      const { deliveryId } = await sendWebhookTest(stack.deps, owner, webhook.id);
      await stack.deps.sql`update webhook_deliveries
        set state = 'failed', attempts = 12, last_status = 500, last_error = 'Answered 500',
            response_excerpt = ${`{"error":"${'x'.repeat(400)}"}`}
        where id = ${deliveryId}`;
      // The rest of the console, as its owner sees it.
      for (const path of [
        'campaigns',
        'offers',
        'campaigns/new',
        'staff',
        'security',
        'audit',
        'tokens',
        'single-sign-on',
        'webhooks',
        `webhooks/${webhook.id}`,
        `webhooks/${webhook.id}/deliveries/${deliveryId}`,
      ]) {
        const response = await page.goto(`${base}/dashboard/${path}`);
        expect(response?.status(), path).toBe(200);
        await look(
          page,
          screen,
          path
            .replace(/whe_\w+/, 'endpoint')
            .replace(/whd_\w+/, 'delivery')
            .replaceAll('/', '-'),
        );
      }
    } finally {
      await context.close();
    }
  });
});

describe("the client's own pages on a phone", () => {
  it('delegations, audit trail, account and security: nothing scrolls sideways at 390 px', async () => {
    const fixture = await createOfferFixture(stack, { partnerName: 'Litware Managed Services for Very Long Names' });
    const { admin } = await activateDelegation(stack, fixture, 'admin@client.example', 'Fourth Coffee Roasters');
    const signedIn = await signedInClient(stack, admin.userId);
    const context = await browser.newContext({ viewport: screens.phone });
    await context.addCookies([...signedIn.cookies].map(([name, value]) => ({ name, value, url: base })));
    const page = await context.newPage();
    try {
      for (const [name, path] of [
        ['org-delegations', '/org/delegations'],
        ['org-audit', '/org/audit'],
        ['org-security', '/org/security'],
        ['account', '/account'],
      ] as const) {
        const response = await page.goto(`${base}${path}`);
        expect(response?.status(), path).toBe(200);
        await look(page, 'phone', name);
      }
    } finally {
      await context.close();
    }
  });
});
