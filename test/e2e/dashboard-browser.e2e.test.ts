import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createStaffMember } from '../helpers/dashboard.ts';
import { createTestOffer, createTestPartner } from '../helpers/factories.ts';
import { createClientAdmin } from '../helpers/offer-fixtures.ts';
import { freePort } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * An operator in a real browser: signs in, watches a 1,000-recipient campaign finish,
 * finds a recipient the mail server refused, retries it once the mailbox is fixed, then
 * opens the job board and the API reference. Screenshots land in test-results/.
 */
const TOTAL = 1000;
const refused = new Set(['bad-1@client.example', 'bad-2@client.example', 'bad-3@client.example']);

let stack: TestStack;
let sink: SmtpSink;
let server: RunningServer;
let browser: Browser;
let base: string;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let offerId: string;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `dashboard-${name}.png`), fullPage: true });

async function signIn(page: Page, email: string, password: string, path = '/dashboard') {
  await page.goto(`${base}${path}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

beforeAll(async () => {
  sink = await startSmtpSink({
    rule: (address) =>
      refused.has(address.toLowerCase()) ? { code: 550, message: '5.1.1 Mailbox does not exist' } : undefined,
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({
    // A send rate that keeps the campaign running for a few seconds, so it can be watched.
    env: { SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1', SEND_RATE_PER_SECOND: '150' },
    workers: true,
  });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();
  owner = await createTestPartner(stack, 'Woodgrove IT');
  offerId = (await createTestOffer(stack, owner.token, { access: 'full', durationDays: 365 })).id;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
  await sink?.close();
});

describe('the operator dashboard in a browser', () => {
  it('sign in, watch a campaign finish, find a refused recipient and retry it', async () => {
    const page = await browser.newPage();
    const started = Date.now();
    await signIn(page, owner.email, owner.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    const recipients = Array.from({ length: TOTAL }, (_, i) =>
      i < refused.size
        ? { email: `bad-${i + 1}@client.example` }
        : { email: `admin-${i}@client.example`, company: `Client ${i}` },
    );
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: owner.token,
      json: { offerId, name: 'Autumn rollout', recipients },
    });
    expect(response.status).toBe(202);

    await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
    await page.getByRole('link', { name: 'Autumn rollout' }).click();
    const progress = page.getByTestId('campaign-progress');
    const first = await progress.textContent();
    await shot(page, '1-campaign-running');
    // The page refreshes itself: the counts move until every recipient is handled.
    await page.getByTestId('campaign-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    const last = await progress.textContent();
    expect(last).toBe(`${TOTAL} of ${TOTAL} recipients handled (100%)`);
    expect(first).not.toBe(last);
    await expect(page.locator('li[data-state="failed"] .n').textContent()).resolves.toBe(String(refused.size));
    await shot(page, '2-campaign-done');

    await page.getByRole('link', { name: `Failed (${refused.size})` }).click();
    await page.getByRole('link', { name: 'bad-1@client.example' }).click();
    await expect(page.getByTestId('smtp-reply').textContent()).resolves.toContain('Mailbox does not exist');
    await shot(page, '3-failed-recipient');

    refused.delete('bad-1@client.example'); // the client fixed the mailbox
    await page.getByRole('button', { name: 'Retry sending the offer' }).click();
    await page.getByText('1 recipient will be sent the offer again.').waitFor();
    await page.locator('.state-offered').first().waitFor({ timeout: 30_000 });
    const retriedIn = (Date.now() - started) / 1000;
    console.log(`sign-in → campaign of ${TOTAL} done → refused recipient found and retried: ${retriedIn.toFixed(1)} s`);
    await shot(page, '4-recipient-retried');
    expect(sink.messages.filter((m) => m.to.includes('bad-1@client.example'))).toHaveLength(1);
    const [row] = await stack.deps.sql`select state from delegations where recipient_email = 'bad-1@client.example'`;
    expect(row?.state).toBe('offered');
  }, 120_000);

  it('opens the job board and the API reference', async () => {
    const page = await browser.newPage();
    await signIn(page, owner.email, owner.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Job board' }).click();
    await page.waitForURL(/\/admin\/queues/);
    await page.getByText('mail', { exact: true }).first().waitFor({ timeout: 30_000 });
    await shot(page, '5-job-board');

    await page.goto(`${base}/docs`);
    await page.getByText('Mandate partner API').first().waitFor({ timeout: 30_000 });
    await page.getByText('/v1/campaigns/{id}/retry-failed').first().waitFor({ timeout: 30_000 });
    await shot(page, '6-api-reference');
  }, 90_000);

  it('shows staff with no access no client data, and keeps client users out', async () => {
    // Invited, and joined with a password of their own chosen on the invitation page.
    const none = await createStaffMember(stack, owner.token, 'none');
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, none.email, none.password);
    // Access none: a page saying so, no partner data and no links to it.
    await page.getByRole('heading', { name: 'No access yet' }).waitFor();
    for (const name of ['Campaigns', 'Delegations', 'Operations']) {
      expect(await page.getByRole('link', { name }).count()).toBe(0);
    }
    const ops = await page.goto(`${base}/dashboard/operations`);
    expect(ops?.status()).toBe(403);
    await shot(page, '7-staff-none');
    await context.close();

    const admin = await createClientAdmin(stack, 'Fabrikam');
    const clientContext = await browser.newContext();
    const clientPage = await clientContext.newPage();
    await signIn(clientPage, admin.email, 'correct horse battery staple');
    const dashboard = await clientPage.goto(`${base}/dashboard`);
    expect(dashboard?.status()).toBe(403);
    await clientPage.getByText('The dashboard is for the staff of a partner.').waitFor();
    await shot(clientPage, '8-client-refused');
    await clientContext.close();
  }, 60_000);
});
