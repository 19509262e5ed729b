import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { createClientOrganization } from '../../services/accounts/client-accounts.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createTestOffer, createTestPartner, createTestStaff, waitFor } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * Issue 13, "Done when": the client unticks an optional role while accepting in a real
 * browser; the partner's staff then get 403 on the operation that role covers and 202 on
 * one it does not. The offer asks for password_admin (required) and user_admin (optional).
 */
let stack: TestStack;
let sink: SmtpSink;
let server: RunningServer;
let browser: Browser;
let base: string;

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
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
  await sink?.close();
});

/** A request to the API over the socket, as a partner's script would make it. */
async function api(path: string, token: string, init: { method?: string; json?: unknown } = {}) {
  return fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}

describe('partial approval in a browser', () => {
  it('an unticked optional role is refused to the partner’s staff; a granted one works', async () => {
    const partner = await createTestPartner(stack, 'Least Privilege IT');
    const offer = await createTestOffer(stack, partner.token, {
      access: undefined,
      roles: [{ role: 'password_admin' }, { role: 'user_admin', optional: true }],
      durationDays: 30,
    });
    const campaign = await api('/v1/campaigns', partner.token, {
      method: 'POST',
      json: { offerId: offer.id, recipients: [{ email: 'partial@client.example' }] },
    });
    expect(campaign.status).toBe(202);
    const [mail] = await sink.waitForMessages(1);
    const link = new RegExp(`${base}/offers/[A-Za-z0-9_-]{43}`).exec(mail?.text ?? '')?.[0] as string;

    const page = await browser.newPage();
    await page.goto(link);
    await page.getByLabel('Organization name').fill('Fabrikam');
    await page.getByLabel('Your name').fill('Kim Admin');
    await page.getByLabel('Choose a password (at least 12 characters)').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Create the organization' }).click();
    await page.getByText('Signed in as partial@client.example').waitFor();

    const userAdmin = page.getByLabel(/^User administrator: can create users/);
    expect(await userAdmin.isChecked()).toBe(true);
    await userAdmin.uncheck();
    await page.screenshot({ path: join(screenshotDir, 'partial-approval-1-unticked.png'), fullPage: true });
    await page.getByRole('button', { name: 'Accept and grant access' }).click();
    await page.locator('#delegation-status[data-state="active"]').waitFor({ timeout: 30_000 });
    const granted = await page.locator('ul.roles').textContent();
    expect(granted).toContain('Password administrator');
    expect(granted).not.toContain('User administrator');
    await page.screenshot({ path: join(screenshotDir, 'partial-approval-2-active.png'), fullPage: true });
    await page.close();

    const [d] = await stack.deps
      .sql`select id, client_org_id, roles from delegations where recipient_email = 'partial@client.example'`;
    expect(d?.roles).toEqual(['password_admin']);
    const delegationId = d?.id as string;
    // A user of the client who is not an administrator, whose password the partner may reset.
    const member = await createClientOrganization(stack.deps.db, {
      orgName: 'ignored',
      adminName: 'Member',
      email: 'member@client.example',
      password: 'correct horse battery staple',
    });
    await stack.deps
      .sql`update users set org_id = ${d?.client_org_id as string}, is_global_admin = false where id = ${member.userId}`;

    const fullStaff = await createTestStaff(stack, partner.partnerId, ['global_admin']);
    for (const [who, token] of [
      ['the owner', partner.token],
      ['a staff member with full access', fullStaff],
    ] as const) {
      const provision = await api(`/v1/delegations/${delegationId}/users`, token, {
        method: 'POST',
        json: { displayName: 'New Hire', userName: `newhire-${who.length}` },
      });
      expect(provision.status, who).toBe(403);
      expect(((await provision.json()) as { code: string }).code).toBe('NOT_AUTHORIZED');

      const reset = await api(`/v1/delegations/${delegationId}/users/${member.userId}/password-reset`, token, {
        method: 'POST',
      });
      expect(reset.status, who).toBe(202);
      const { operationId } = (await reset.json()) as { operationId: string };
      // The worker's own check agrees: the reset runs.
      const done = await waitFor(async () => {
        const op = (await (await api(`/v1/operations/${operationId}`, token)).json()) as { state: string };
        return ['succeeded', 'failed', 'rejected'].includes(op.state) ? op : undefined;
      });
      expect(done.state, who).toBe('succeeded');
    }
    const provisioned = await stack.deps
      .sql`select count(*)::int as n from operations where delegation_id = ${delegationId} and kind = 'provision_user'`;
    expect(provisioned[0]?.n).toBe(0);
  });
});
