import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNames } from '../../../lib/queues/names.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember } from '../../helpers/dashboard.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let owner: PageClient;
let partner: Awaited<ReturnType<typeof createTestPartner>>;
const PASSWORD = 'correct horse battery staple';
const origin = 'http://mandate.test';

beforeAll(async () => {
  stack = await createTestStack();
  partner = await createTestPartner(stack);
  owner = await signedIn(partner.email, partner.password);
});
afterAll(() => stack.close());

/** A browser signed in through the real sign-in form. */
async function signedIn(email: string, password: string): Promise<PageClient> {
  const browser = new PageClient(stack);
  await browser.get('/sign-in');
  const result = await browser.post('/sign-in', { email, password, next: '/admin/queues' });
  expect(result.status, result.html).toBe(303);
  return browser;
}

/** A request from `browser` with its cookies and the given headers (as the board's own scripts send). */
function boardRequest(
  browser: PageClient,
  path: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<Response> {
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return stack.request(path, { ...init, headers: { cookie, ...init.headers } });
}

/** Whether the dashboard's nav, as `browser` sees it, lists the job board. */
async function navListsBoard(browser: PageClient): Promise<boolean> {
  const page = await browser.get('/dashboard/tokens');
  expect(page.status).toBe(200);
  const nav = page.html.slice(page.html.indexOf('<nav aria-label="Dashboard"'), page.html.indexOf('</nav>'));
  expect(nav).toContain('API tokens');
  return nav.includes('href="/admin/queues"');
}

/** An address of another site: what no page may make a browser fetch (fonts above all). */
const external = /(?:https?:)?\/\/(?!mandate\.test\/)[a-z0-9.-]+\.[a-z]{2,}[^"')\s]*/gi;

describe('the job board at /admin/queues', () => {
  it('sends someone not signed in to the sign-in page, and back', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/queue/mail']) {
      const page = await new PageClient(stack).get(path);
      expect(page.status, path).toBe(303);
      expect(page.response.headers.get('location')).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
    }
  });

  it("refuses a client organization's user and a partner's staff member who is not an owner", async () => {
    const client = await createClientAdmin(stack);
    const member = await createStaffMember(stack, partner.token, 'full');
    expect(await navListsBoard(await signedIn(member.email, member.password))).toBe(false);
    for (const browser of [await signedIn(client.email, PASSWORD), await signedIn(member.email, member.password)]) {
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const page = await browser.get(path);
        expect(page.status, path).toBe(403);
        expect(page.response.headers.get('content-type')).toMatch(/^text\/html/);
        expect(page.html).toContain('Not allowed');
        expect(page.html).not.toContain('__UI_CONFIG__');
      }
    }
  });

  it('shows an owner the board, its scripts and every queue', async () => {
    // The only partner of the instance: its owners are the operators, and the nav says so.
    expect(await navListsBoard(owner)).toBe(true);
    const page = await owner.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<base href="/admin/queues/"');
    expect(page.html).toContain('__UI_CONFIG__');
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
    expect(page.response.headers.get('cache-control')).toBe('no-store');
    const csp = page.response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");

    const scripts = [...page.html.matchAll(/<script defer src="([^"]+)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const asset = await owner.get(`/admin/queues/${script}`);
      expect(asset.status, script).toBe(200);
      expect(asset.response.headers.get('content-type')).toMatch(/javascript/);
    }

    const api = await owner.get('/admin/queues/api/queues');
    expect(api.status).toBe(200);
    const { queues } = JSON.parse(api.html) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(queues.map((q) => q.name).sort()).toEqual([...queueNames].sort());
    expect(queues.every((q) => !q.readOnlyMode)).toBe(true);

    const slash = await owner.get('/admin/queues/');
    expect(slash.status).toBe(301);
    expect(slash.response.headers.get('location')).toBe('/admin/queues');
  });

  it('leads back to the dashboard', async () => {
    const page = await owner.get('/admin/queues');
    const config = JSON.parse(
      /<script id="__UI_CONFIG__" type="application\/json">([^<]*)<\/script>/.exec(page.html)?.[1] ?? '{}',
    ) as { miscLinks?: { text: string; url: string }[] };
    expect(config.miscLinks).toContainEqual({ text: 'Back to the dashboard', url: '/dashboard' });
    // Also without its scripts, and before they have drawn the page.
    expect(page.html).toMatch(/<a [^>]*href="\/dashboard"[^>]*>[^<]*Dashboard<\/a>/);
  });

  it('loads no web font, nor anything else from another site: its page and stylesheets name none', async () => {
    const page = await owner.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.html).not.toMatch(/fonts\.googleapis|fonts\.gstatic/);
    // No stylesheet, script, icon or preload from elsewhere.
    const links = [...page.html.matchAll(/<(?:link|script)\b[^>]*>/gi)].map((m) => m[0]);
    for (const tag of links) expect(tag, tag).not.toMatch(/(?:href|src)="(?:https?:)?\/\//);
    // The board's stylesheets (the page's and the ones its scripts add later): no @import,
    // and no url() outside the board.
    const ui = path.dirname(createRequire(import.meta.url).resolve('@bull-board/ui/package.json'));
    const css = [...page.html.matchAll(/<link href="([^"]+\.css)"/g)].map((m) => m[1] as string);
    const later = readdirSync(path.join(ui, 'dist/static/css/async')).map((f) => `static/css/async/${f}`);
    expect(css.length).toBeGreaterThan(0);
    for (const file of [...css, ...later]) {
      const sheet = await owner.get(`/admin/queues/${file}`);
      expect(sheet.status, file).toBe(200);
      expect(sheet.html, file).not.toMatch(/@import|@font-face/);
      expect(sheet.html.match(external) ?? [], file).toEqual([]);
    }
    // The fonts named are the machine's own (a name, never a file to fetch).
    const policy = page.response.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/font-src 'self'(;|$)/);
  });

  it('refuses actions from another origin, and changes nothing', async () => {
    const mail = stack.deps.queues.queue('mail');
    const before = await mail.getJobCounts();
    const crossOrigin: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'http://sub.mandate.test', 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'null' },
    ];
    for (const headers of crossOrigin) {
      const add = await boardRequest(owner, '/admin/queues/api/queues/mail/add', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
      });
      expect(add.status, JSON.stringify(headers)).toBe(403);
      const pause = await boardRequest(owner, '/admin/queues/api/queues/mail/pause', { method: 'PUT', headers });
      expect(pause.status, JSON.stringify(headers)).toBe(403);
      await pause.body?.cancel();
      await add.body?.cancel();
    }
    expect(await mail.isPaused()).toBe(false);
    expect(await mail.getJobCounts()).toEqual(before);
  });

  it('lets an owner pause and resume a queue from the board itself, but not add jobs', async () => {
    const mail = stack.deps.queues.queue('mail');
    const sameOrigin = { origin, 'sec-fetch-site': 'same-origin' };
    const pause = await boardRequest(owner, '/admin/queues/api/queues/mail/pause', {
      method: 'PUT',
      headers: sameOrigin,
    });
    expect(pause.status).toBe(200);
    expect(await mail.isPaused()).toBe(true);
    const resume = await boardRequest(owner, '/admin/queues/api/queues/mail/resume', {
      method: 'PUT',
      headers: sameOrigin,
    });
    expect(resume.status).toBe(200);
    expect(await mail.isPaused()).toBe(false);

    const before = await mail.getJobCounts();
    const add = await boardRequest(owner, '/admin/queues/api/queues/mail/add', {
      method: 'POST',
      headers: { ...sameOrigin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'send-email', data: { emailId: 'eml_x' }, options: {} }),
    });
    expect(add.status).toBe(403);
    await add.body?.cancel();
    expect(await mail.getJobCounts()).toEqual(before);
  });

  // Last: it adds a second partner to the instance.
  it('on an instance with several partners, opens only to the operating partner’s owners', async () => {
    const other = await createTestPartner(stack);
    const otherOwner = await signedIn(other.email, other.password);
    for (const browser of [owner, otherOwner]) {
      const page = await browser.get('/admin/queues/api/queues');
      expect(page.status).toBe(403);
      expect(page.html).toContain('OPERATOR_PARTNER_ID');
      // And the nav does not offer what it would refuse.
      expect(await navListsBoard(browser)).toBe(false);
    }
    const operated = await createTestStack({
      database: stack.database,
      env: { OPERATOR_PARTNER_ID: partner.partnerId },
    });
    try {
      const asOperator = new PageClient(operated);
      asOperator.cookies.set('mandate_session', owner.cookies.get('mandate_session') as string);
      expect((await asOperator.get('/admin/queues/api/queues')).status).toBe(200);
      expect(await navListsBoard(asOperator)).toBe(true);
      const asOther = new PageClient(operated);
      asOther.cookies.set('mandate_session', otherOwner.cookies.get('mandate_session') as string);
      const refused = await asOther.get('/admin/queues/api/queues');
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('operating this instance');
      expect(await navListsBoard(asOther)).toBe(false);
    } finally {
      await operated.close();
    }
  });
});
