import { join } from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { PageClient } from '../helpers/browser-client.ts';
import { createTestPartner } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * A partner's owner in a real browser with Chromium's virtual authenticator (a platform
 * authenticator that verifies its user): adds a passkey on /account/passkeys, signs out,
 * signs in with the passkey alone, then finds the password leads to the second step,
 * which the passkey finishes; removes it, and it signs in no more. Served on
 * `localhost` (WebAuthn refuses an IP address as the site's id). Screenshots in
 * test-results/.
 */
let stack: TestStack;
let server: RunningServer;
let browser: Browser;
let base: string;
let owner: Awaited<ReturnType<typeof createTestPartner>>;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshotDir, `passkeys-${name}.png`), fullPage: true });

async function passwordStep(page: Page) {
  await page.goto(`${base}/sign-in?next=/dashboard`);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page: Page) {
  await page.goto(`${base}/dashboard`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

/** Chromium's virtual authenticator, as a phone or laptop with a screen lock would be. */
async function addAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { cdp, authenticatorId };
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  stack = await createTestStack({ env: { PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' } });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();
  owner = await createTestPartner(stack, 'Fabrikam IT');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
});

describe('passkeys in a browser', () => {
  it('register, sign in with it alone, finish a password sign-in with it, remove it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const { cdp, authenticatorId } = await addAuthenticator(page);
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });

    await passwordStep(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${base}/account/two-factor`);
    await page.getByRole('link', { name: 'Passkeys' }).click();
    await page.getByText('You have no passkeys yet.').waitFor();

    await page.getByLabel('Name (to tell your passkeys apart)').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    // The first second factor of this account: recovery codes come with it.
    await page.getByRole('heading', { name: 'Your passkey is added' }).waitFor();
    const recoveryCodes = await page.getByTestId('recovery-codes').locator('li').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await shot(page, '1-recovery-codes');
    await page.getByRole('link', { name: 'I have saved them' }).click();
    await expect(page.getByTestId('passkeys').locator('tbody tr').allTextContents()).resolves.toEqual([
      expect.stringContaining('Test laptop'),
    ]);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);
    await shot(page, '2-listed');

    // Signed out: the passkey alone signs in, no email or password typed.
    await signOut(page);
    await page.goto(`${base}/sign-in?next=/dashboard`);
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/sign-in/passkey'));
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await shot(page, '3-signed-in-with-passkey');
    await signOut(page);

    // The browser's real answer, captured on its way: sent again, its challenge is spent;
    // with its origin rewritten, it was not made on this site.
    const answer = new URLSearchParams((await posted).postData() ?? '').get('answer') ?? '';
    expect(JSON.parse(answer).response.userHandle).toBeTruthy();
    const replay = new PageClient(stack);
    await replay.get('/sign-in');
    const replayed = await replay.post('/sign-in/passkey', { answer });
    expect(replayed.status).toBe(401);
    expect(replayed.html).toContain('This passkey request has expired or was already used.');
    const parsed = JSON.parse(answer);
    const clientData = JSON.parse(Buffer.from(parsed.response.clientDataJSON, 'base64url').toString());
    parsed.response.clientDataJSON = Buffer.from(
      JSON.stringify({ ...clientData, origin: 'https://mandate.example.net' }),
    ).toString('base64url');
    const tampered = await replay.post('/sign-in/passkey', { answer: JSON.stringify(parsed) });
    expect(tampered.status).toBe(401);
    expect(tampered.html).toContain('This passkey answer was made for another site.');

    // The password now leads to the second step, which the passkey finishes.
    await passwordStep(page);
    await page.getByRole('heading', { name: 'Confirm with your passkey' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in/two-factor');
    await shot(page, '4-second-step');
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    const sessions = await stack.deps.sql`
      select sign_in_method, second_factor_at is not null as second_factor from sessions where user_id = ${owner.userId}`;
    expect(sessions).toEqual([{ sign_in_method: 'password_passkey', second_factor: true }]);

    // Removed: it no longer signs in, and the password alone does again.
    await page.goto(`${base}/account/passkeys`);
    await page.getByRole('button', { name: 'Remove Test laptop' }).click();
    await page.getByText('Passkey removed.').waitFor();
    await page.getByText('You have no passkeys yet.').waitFor();
    await signOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'This passkey is not registered with Mandate' }).waitFor();
    await shot(page, '5-removed-passkey-refused');
    const refused = await page.goto(`${base}/dashboard`);
    expect(new URL(refused?.url() ?? '').pathname).toBe('/sign-in');
    await passwordStep(page);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await context.close();

    expect(consoleErrors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    const audit = await stack.deps.sql`
      select action, outcome, detail->>'reason' as reason, detail->>'purpose' as purpose
      from audit_events where actor_user_id = ${owner.userId} and action like 'passkey.%' order by id`;
    expect(audit.map((a) => [a.action, a.outcome, a.reason ?? a.purpose])).toEqual([
      ['passkey.register', 'succeeded', null],
      ['passkey.sign_in', 'succeeded', 'sign_in'],
      ['passkey.sign_in', 'rejected', 'challenge_unknown'],
      ['passkey.sign_in', 'rejected', 'wrong_origin'],
      ['passkey.confirm', 'succeeded', 'second_step'],
      ['passkey.remove', 'succeeded', null],
    ]);
  }, 90_000);
});
