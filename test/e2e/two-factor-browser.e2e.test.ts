import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createTestPartner } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * A partner's owner in a real browser: turns on two-factor sign-in reading the key from
 * the page and computing codes as a phone's authenticator app does (otpauth, SHA-1,
 * 6 digits, 30 s), signs out, signs in with password + code, then with a recovery code,
 * and finds that recovery code refused the second time. Screenshots in test-results/.
 */
let stack: TestStack;
let server: RunningServer;
let browser: Browser;
let base: string;
let owner: Awaited<ReturnType<typeof createTestPartner>>;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `two-factor-${name}.png`), fullPage: true });

/** The phone's authenticator app, given the key typed from the page. */
const phoneApp = (key: string) => new TOTP({ secret: Secret.fromBase32(key.replace(/\s/g, '')) });

async function passwordStep(page: Page) {
  await page.goto(`${base}/sign-in?next=/dashboard`);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({ env: { PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' } });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();
  owner = await createTestPartner(stack, 'Woodgrove IT');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
});

describe('two-factor sign-in in a browser', () => {
  it('enrol with the key from the page, sign out, sign in with a code, then with a recovery code once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await passwordStep(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    // From the dashboard's header to the account page, and on to two-factor sign-in.
    await page.getByRole('link', { name: owner.email }).click();
    await page.getByRole('link', { name: 'Two-factor sign-in' }).click();
    await page.getByText('Two-factor sign-in is off').waitFor();
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const key = (await page.getByTestId('totp-secret').textContent()) ?? '';
    expect(key.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);
    await shot(page, '1-enrol');

    const app = phoneApp(key);
    const enrolledAt = Date.now();
    await page.getByLabel('6-digit code').fill(app.generate({ timestamp: enrolledAt }));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('heading', { name: 'Two-factor sign-in is on' }).waitFor();
    const recoveryCodes = await page.getByTestId('recovery-codes').locator('li').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    await shot(page, '2-recovery-codes');
    await page.getByRole('link', { name: 'I have saved them' }).click();
    await expect(page.getByTestId('two-factor-status').textContent()).resolves.toContain('Two-factor sign-in is on');
    await expect(page.getByTestId('recovery-codes-left').textContent()).resolves.toBe('10');

    await page.goto(`${base}/dashboard`);
    await signOut(page);

    // Password, then the code the app shows next (the enrolment's own code is spent).
    await passwordStep(page);
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in/two-factor');
    await shot(page, '3-second-step');
    // The second step is not a session: the dashboard sends it back to sign in.
    const other = await context.newPage();
    await other.goto(`${base}/dashboard`);
    await other.getByRole('heading', { name: 'Sign in' }).waitFor();
    await other.close();
    await page
      .getByLabel('Code from your app, or a recovery code')
      .fill(app.generate({ timestamp: enrolledAt + 30_000 }));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await signOut(page);

    // Phone lost: a recovery code instead, typed as shown.
    await passwordStep(page);
    await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[0] as string);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${base}/account/two-factor`);
    await expect(page.getByTestId('recovery-codes-left').textContent()).resolves.toBe('9');
    await page.goto(`${base}/dashboard`);
    await signOut(page);

    // The same recovery code again: refused, with a message, and still not signed in.
    await passwordStep(page);
    await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[0] as string);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'That recovery code has already been used' }).waitFor();
    await shot(page, '4-recovery-code-reused');
    const response = await page.goto(`${base}/dashboard`);
    expect(new URL(response?.url() ?? '').pathname).toBe('/sign-in');
    await context.close();

    const [row] = await stack.deps.sql`
      select count(*) filter (where outcome = 'succeeded')::int as ok, count(*) filter (where outcome = 'rejected')::int as refused
      from audit_events where actor_user_id = ${owner.userId} and action like 'two_factor.%'`;
    // enable, code, recovery code · the reused recovery code
    expect(row).toEqual({ ok: 3, refused: 1 });
  }, 60_000);
});
