import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { newId } from '../../core/ids.ts';
import { hashPassword } from '../../lib/secrets.ts';
import { runLifecycle } from '../../services/maintenance/lifecycle.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../helpers/offer-fixtures.ts';
import { freePort } from '../helpers/processes.ts';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * The consent rule end to end, through real sockets: a partner asks 100 clients of one
 * campaign for `domain_admin`; each client's admin gets an email with a personal link; some
 * accept (a few in a real browser, the rest with real form posts, session cookies and CSRF),
 * some decline, some never answer until the sweep expires the request. The delegations keep
 * their ids, their timelines and audit trails show the terms before and after, and the mail
 * server receives every email exactly once.
 */
const COUNT = 100;
const password = 'correct horse battery staple';

let stack: TestStack;
let sink: SmtpSink;
let server: RunningServer;
let browser: Browser;
let base: string;
let owner: { token: string; email: string };
let campaignId: string;
const clients: { index: number; delegationId: string; orgId: string; email: string; name: string }[] = [];

const pad = (i: number) => String(i).padStart(3, '0');

/** A browser without a browser: a cookie jar over fetch, repeating the CSRF cookie in each form. */
class FormSession {
  readonly cookies = new Map<string, string>();
  constructor(readonly forwardedFor: string) {}

  async request(url: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    // The server trusts one proxy (TRUST_PROXY): each client gets its own address, as real
    // clients would, so the per-address sign-in and answer limits do not lump them together.
    headers.set('x-forwarded-for', this.forwardedFor);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) this.cookies.set(name.trim(), value.join('='));
    }
    return { status: response.status, html: await response.text(), location: response.headers.get('location') };
  }

  post(url: string, fields: Record<string, string> = {}) {
    const body = new URLSearchParams({ ...fields, csrf: this.cookies.get('mandate_csrf') ?? '' });
    return this.request(url, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }
}

async function api(path: string, init: { method?: string; json?: unknown; token?: string } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? owner.token}`,
      ...(init.json ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.json ? { body: JSON.stringify(init.json) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function inBatches<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

const amendmentMails = (m: ReceivedMail) =>
  /asks for more|accepted the change|declined the change|did not answer/.test(m.subject ?? '');

beforeAll(async () => {
  sink = await startSmtpSink();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({
    env: { SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1', TRUST_PROXY: 'true' },
  });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();

  // 100 active delegations of one campaign. The campaign goes through the API; acceptance
  // is set up with SQL (one organization and global admin per recipient, one password hash
  // for all), before any worker runs — so no offer email is ever sent.
  const partner = await createTestPartner(stack, 'Northwind Managed IT');
  owner = { token: partner.token, email: partner.email };
  const offer = await createTestOffer(stack, partner.token, { access: 'limited', durationDays: 365 });
  const created = await api('/v1/campaigns', {
    method: 'POST',
    json: {
      offerId: offer.id,
      recipients: Array.from({ length: COUNT }, (_, i) => ({ email: `admin-${pad(i)}@client${pad(i)}.example` })),
    },
  });
  expect(created.status).toBe(202);
  campaignId = created.body.id as string;
  const rows = await stack.deps.sql`
    select id, recipient_email from delegations where campaign_id = ${campaignId} order by recipient_email`;
  const passwordHash = await hashPassword(password);
  for (const [index, row] of rows.entries()) {
    clients.push({
      index,
      delegationId: row.id as string,
      orgId: newId('organization'),
      email: row.recipient_email as string,
      name: `Client ${pad(index)}`,
    });
  }
  const userIds = clients.map(() => newId('user'));
  await stack.deps.sql`insert into organizations ${stack.deps.sql(
    clients.map((c) => ({ id: c.orgId, kind: 'client', name: c.name })),
  )}`;
  await stack.deps.sql`insert into users ${stack.deps.sql(
    clients.map((c, i) => ({
      id: userIds[i] as string,
      org_id: c.orgId,
      email: c.email,
      display_name: `Admin ${pad(c.index)}`,
      password_hash: passwordHash,
      is_global_admin: true,
    })),
  )}`;
  await stack.deps.sql`
    update delegations d set state = 'active', client_org_id = v.org_id, accepted_by = v.user_id,
      accepted_at = now(), activated_at = now(), ends_at = now() + interval '365 days'
    from unnest(${clients.map((c) => c.delegationId)}::text[], ${clients.map((c) => c.orgId)}::text[],
                ${userIds}::text[]) as v(delegation_id, org_id, user_id)
    where d.id = v.delegation_id`;
  await stack.startWorkers();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
  await sink?.close();
});

describe('amendments end to end', () => {
  it('a full-access, non-renewing delegation: extend answers 409 AMENDMENT_REQUIRED and the end stays', async () => {
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 1, autoExtend: false } });
    const { delegationId } = await activateDelegation(stack, fixture);
    const before = await api(`/v1/delegations/${delegationId}`, { token: fixture.partner.token });
    const extend = await api(`/v1/delegations/${delegationId}/extend`, {
      method: 'POST',
      json: { days: 365 },
      token: fixture.partner.token,
    });
    expect(extend.status).toBe(409);
    expect(extend.body).toMatchObject({
      code: 'AMENDMENT_REQUIRED',
      amendment: { method: 'POST', path: `/v1/delegations/${delegationId}/amendments`, body: { extendDays: 365 } },
    });
    const after = await api(`/v1/delegations/${delegationId}`, { token: fixture.partner.token });
    expect(after.body.endsAt).toBe(before.body.endsAt);
  });

  it('adding domain_admin to 100 delegations of a campaign: accepted, declined, or expired unanswered', async () => {
    // The partner asks each client.
    await inBatches(clients, 8, async (c) => {
      const proposed = await api(`/v1/delegations/${c.delegationId}/amendments`, {
        method: 'POST',
        json: { addRoles: ['domain_admin'] },
      });
      expect(proposed.status, c.name).toBe(202);
      expect(proposed.body.state).toBe('pending');
    });

    // Each client's admin receives one email with a personal link.
    await sink.waitForMessages(COUNT);
    const links = new Map<string, string>();
    await waitFor(async () => {
      for (const m of sink.messages.filter((x) => x.subject?.includes('asks for more'))) {
        const link = new RegExp(`${base}/amendments/[A-Za-z0-9_-]{43}`).exec(m.text)?.[0];
        if (link) links.set(m.to[0] as string, link);
      }
      return links.size === COUNT;
    });

    const inBrowser = clients.slice(0, 4); // three accept, one declines
    const byForm = clients.slice(4, 90); // 67 accept, 19 decline
    const ignored = clients.slice(90); // 10 never answer
    const answers = new Map<string, 'accept' | 'decline'>([
      ...inBrowser.map((c, i) => [c.delegationId, i < 3 ? 'accept' : 'decline'] as const),
      ...byForm.map((c, i) => [c.delegationId, i < 67 ? 'accept' : 'decline'] as const),
    ]);

    // A few in a real browser: the link, sign in, before → after, Accept or Decline.
    for (const [i, c] of inBrowser.entries()) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(links.get(c.email) as string);
      await page.getByLabel('Email').fill(c.email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Accept the change' }).waitFor();
      const terms = await page.locator('#amendment-terms').textContent();
      expect(terms).toContain('Password administrator, Domain administrator');
      if (i === 0) await page.screenshot({ path: join(screenshotDir, 'amendment-1-proposal.png'), fullPage: true });
      const answer = answers.get(c.delegationId);
      await page
        .getByRole('button', { name: answer === 'accept' ? 'Accept the change' : 'Decline the change' })
        .click();
      await page
        .locator(`#amendment-outcome[data-answer="${answer === 'accept' ? 'accepted' : 'declined'}"]`)
        .waitFor();
      if (i === 0) await page.screenshot({ path: join(screenshotDir, 'amendment-2-accepted.png'), fullPage: true });
      await context.close();
    }

    // The rest with form posts over HTTP: session cookie, CSRF field, one address each.
    await inBatches(byForm, 6, async (c) => {
      const session = new FormSession(`10.20.${Math.floor(c.index / 200)}.${c.index % 200}`);
      const link = links.get(c.email) as string;
      const anonymous = await session.request(link);
      expect(anonymous.status).toBe(200);
      expect(anonymous.html).toContain('Sign in as a global administrator');
      const signedIn = await session.post(`${link}/sign-in`, { email: c.email, password });
      expect(signedIn.status, c.name).toBe(303);
      const proposal = await session.request(link);
      expect(proposal.html).toContain('Adds Domain administrator');
      const answer = answers.get(c.delegationId);
      const answered = await session.post(`${link}/${answer}`);
      expect(answered.status, c.name).toBe(200);
      expect(answered.html).toContain(answer === 'accept' ? 'Change accepted' : 'Change declined');
    });

    // The others never answer: 30 days pass (moved in SQL), and the sweep expires them.
    await stack.deps.sql`
      update amendments set expires_at = now() - interval '1 second'
      where delegation_id in ${stack.deps.sql(ignored.map((c) => c.delegationId))}`;
    expect((await runLifecycle(stack.deps)).amendmentsExpired).toBe(ignored.length);
    expect((await runLifecycle(stack.deps)).amendmentsExpired).toBe(0);

    const accepted = clients.filter((c) => answers.get(c.delegationId) === 'accept');
    const declined = clients.filter((c) => answers.get(c.delegationId) === 'decline');
    expect(accepted).toHaveLength(70);
    expect(declined).toHaveLength(20);

    // Same delegations, same ids: none created, none replaced.
    const listed = await api(`/v1/delegations?campaignId=${campaignId}&limit=1000`);
    const items = listed.body.items as { id: string; state: string; roles: string[] }[];
    expect(new Set(items.map((d) => d.id))).toEqual(new Set(clients.map((c) => c.delegationId)));
    expect(items.every((d) => d.state === 'active')).toBe(true);

    // Each delegation's timeline and audit trail: before and after where it changed, nothing where not.
    await inBatches(clients, 8, async (c) => {
      const answer = answers.get(c.delegationId) ?? 'ignored';
      const d = await api(`/v1/delegations/${c.delegationId}`);
      const events = d.body.events as { event: string; detail: Record<string, { roles: string[] }> | null }[];
      const amends = events.filter((e) => e.event === 'amend');
      const audit = await api(`/v1/audit?clientOrgId=${c.orgId}`);
      const trail = (audit.body.items as { action: string; detail: Record<string, { roles: string[] }> }[]).filter(
        (e) => e.action.startsWith('amendment.'),
      );
      const amendments = await api(`/v1/delegations/${c.delegationId}/amendments`);
      const [amendment] = amendments.body.items as { state: string }[];
      const proposed = trail.find((e) => e.action === 'amendment.propose');
      expect(proposed?.detail.before?.roles, c.name).toEqual(['password_admin']);
      expect(proposed?.detail.after?.roles, c.name).toEqual(['password_admin', 'domain_admin']);
      if (answer === 'accept') {
        expect(d.body.roles, c.name).toEqual(['password_admin', 'domain_admin']);
        expect(amends, c.name).toHaveLength(1);
        expect(amends[0]?.detail?.before?.roles).toEqual(['password_admin']);
        expect(amends[0]?.detail?.after?.roles).toEqual(['password_admin', 'domain_admin']);
        const yes = trail.find((e) => e.action === 'amendment.accept');
        expect(yes?.detail.before?.roles, c.name).toEqual(['password_admin']);
        expect(yes?.detail.after?.roles, c.name).toEqual(['password_admin', 'domain_admin']);
        expect(amendment?.state).toBe('applied');
      } else {
        expect(d.body.roles, c.name).toEqual(['password_admin']);
        expect(amends, c.name).toHaveLength(0);
        expect(trail.map((e) => e.action).sort(), c.name).toEqual(
          ['amendment.propose', answer === 'decline' ? 'amendment.decline' : 'amendment.expire'].sort(),
        );
        expect(amendment?.state).toBe(answer === 'decline' ? 'declined' : 'expired');
      }
    });

    // Every email once, counted from what the mail server received: the proposal to each
    // admin; accept and decline to both sides; expiry to the partner's owner.
    const expected = COUNT + 2 * accepted.length + 2 * declined.length + ignored.length;
    await waitFor(async () => sink.messages.filter(amendmentMails).length >= expected);
    await new Promise((r) => setTimeout(r, 500)); // anything more would show up by now
    const received = sink.messages.filter(amendmentMails);
    expect(received).toHaveLength(expected);
    const perMessage = new Map<string, number>();
    for (const m of received) {
      const key = `${m.to.join(',')} | ${m.subject}`;
      perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
    }
    expect([...perMessage.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(expected);
    const count = (to: string, words: string) =>
      received.filter((m) => m.to.includes(to.toLowerCase()) && m.subject?.includes(words)).length;
    for (const c of clients) {
      const answer = answers.get(c.delegationId);
      expect(count(c.email, 'asks for more'), c.name).toBe(1);
      expect(count(c.email, 'accepted the change'), c.name).toBe(answer === 'accept' ? 1 : 0);
      expect(count(c.email, 'declined the change'), c.name).toBe(answer === 'decline' ? 1 : 0);
    }
    expect(count(owner.email, 'accepted the change')).toBe(accepted.length);
    expect(count(owner.email, 'declined the change')).toBe(declined.length);
    expect(count(owner.email, 'did not answer')).toBe(ignored.length);
    // Every email to a client admin carries the way out.
    for (const m of received.filter((x) => x.to[0]?.includes('@client'))) {
      expect(m.text, m.subject).toMatch(new RegExp(`${base}/end/dlg_[0-9a-f]{32}/[A-Za-z0-9_-]{43}`));
    }
  }, 120_000);
});
