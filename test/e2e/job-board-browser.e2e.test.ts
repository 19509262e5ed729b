import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createTestPartner } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * The job board in a real browser, from the dashboard's nav and back: the browser asks
 * nothing of another site (no web font), and the page refuses nothing it asked for.
 */
let stack: TestStack;
let server: RunningServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({ env: { PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' } });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
});

describe('the job board in a browser', () => {
  it('opens from the nav, loads nothing from elsewhere, and leads back to the dashboard', async () => {
    const owner = await createTestPartner(stack, 'Woodgrove IT');
    const context = await browser.newContext();
    const page = await context.newPage();
    const elsewhere: string[] = [];
    const refused: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(`${base}/`)) elsewhere.push(request.url());
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });

    await page.goto(`${base}/dashboard`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Job board' }).click();
    await page.waitForURL(`${base}/admin/queues`);
    await page.getByText('mail', { exact: true }).first().waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(screenshotDir, 'job-board.png') });
    expect(elsewhere).toEqual([]);
    expect(refused).toEqual([]);

    await page.getByRole('link', { name: '← Dashboard' }).click();
    await page.waitForURL(`${base}/dashboard`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await context.close();
  }, 60_000);
});
