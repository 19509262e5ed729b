import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createTestOffer, createTestPartner } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * A person in a real browser: opens the offer link from the email the SMTP server
 * received, creates the organization, accepts, watches it become active, and ends it.
 */
export function describeOfferInBrowser(backend: 'redis' | 'postgres'): void {
  let stack: TestStack;
  let sink: SmtpSink;
  let server: RunningServer;
  let browser: Browser;
  let base: string;
  const links = new Map<string, string>();

  beforeAll(async () => {
    sink = await startSmtpSink();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    stack = await createTestStack({
      env: { SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1', QUEUE_BACKEND: backend },
      workers: true,
    });
    server = await startServer(stack.app, stack.config);
    browser = await launchBrowser();

    const partner = await createTestPartner(stack, 'Woodgrove <Managed> IT');
    const offer = await createTestOffer(stack, partner.token, {
      access: 'limited',
      durationDays: 365,
      autoExtend: true,
    });
    await stack.request('/v1/campaigns', {
      method: 'POST',
      token: partner.token,
      json: {
        offerId: offer.id,
        recipients: [{ email: 'accepts@client.example' }, { email: 'declines@client.example' }],
      },
    });
    for (const mail of await sink.waitForMessages(2)) {
      const link = new RegExp(`${base}/offers/[A-Za-z0-9_-]{43}`).exec(mail.text)?.[0];
      if (link) links.set(mail.to[0] as string, link);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stack?.close();
    await sink?.close();
  });

  describe(`the offer in a browser, queues on ${backend}`, () => {
    it('from the email to an active delegation, then ended from the client page', async () => {
      const page = await browser.newPage();
      await page.goto(links.get('accepts@client.example') as string);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        'Woodgrove <Managed> IT asks to administer your organization',
      );
      await page.screenshot({ path: join(screenshotDir, `offer-${backend}-1-offer-page.png`), fullPage: true });

      await page.getByLabel('Organization name').fill('Fabrikam');
      await page.getByLabel('Your name').fill('Kim Admin');
      // The address the offer was sent to is filled in: the link proves it, no confirmation needed.
      expect(await page.getByLabel('Your email').inputValue()).toBe('accepts@client.example');
      await page.getByLabel('Choose a password (at least 12 characters)').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Create the organization' }).click();
      await page.getByText('Signed in as accepts@client.example').waitFor();

      await page.getByRole('button', { name: 'Accept and grant access' }).click();
      // The status page reloads itself until the worker has granted the access.
      await page.locator('#delegation-status[data-state="active"]').waitFor({ timeout: 30_000 });
      const status = await page.locator('#delegation-status').textContent();
      expect(status).toContain('Active: Woodgrove <Managed> IT has access until');
      await page.screenshot({ path: join(screenshotDir, `offer-${backend}-2-delegation-active.png`), fullPage: true });

      await page.getByRole('link', { name: "See and end your organization's delegations" }).click();
      await page.getByRole('cell', { name: 'active' }).waitFor();
      await page.getByRole('button', { name: 'End the delegation to Woodgrove <Managed> IT' }).click();
      await page.getByText('The delegation has been ended').waitFor();
      await page.screenshot({ path: join(screenshotDir, `offer-${backend}-3-delegation-ended.png`), fullPage: true });
      const [row] = await stack.deps
        .sql`select state from delegations where recipient_email = 'accepts@client.example'`;
      expect(row?.state).toBe('terminated');
      await page.close();
    });

    it('declines without an account, after a confirmation', async () => {
      const page = await browser.newPage();
      await page.goto(links.get('declines@client.example') as string);
      await page.getByRole('button', { name: 'Decline this offer' }).click();
      // The first click only asks; nothing is declined yet.
      await page.getByRole('heading', { name: /^Decline the offer from / }).waitFor();
      await page.screenshot({ path: join(screenshotDir, `offer-${backend}-4-decline-confirm.png`), fullPage: true });
      const [before] = await stack.deps
        .sql`select state from delegations where recipient_email = 'declines@client.example'`;
      expect(before?.state).toBe('offered');
      await page.getByRole('button', { name: 'Decline the offer' }).click();
      await page.getByRole('heading', { name: 'Offer declined' }).waitFor();
      await page.screenshot({ path: join(screenshotDir, `offer-${backend}-4-offer-declined.png`), fullPage: true });
      const [row] = await stack.deps
        .sql`select state from delegations where recipient_email = 'declines@client.example'`;
      expect(row?.state).toBe('declined');
      const again = await page.goto(links.get('declines@client.example') as string);
      expect(again?.status()).toBe(410);
      await page.close();
    });
  });
}
