import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember } from '../../helpers/dashboard.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { enrolTotp, totpCode } from '../../helpers/two-factor.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const CLIENT_PASSWORD = 'correct horse battery staple';

/** An address of its own for each browser, so the sign-in limits per address never bite. */
const someAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** A browser signed in at /sign-in with this email and password, sent on to its account page. */
async function signIn(email: string, password: string, options: { userAgent?: string } = {}) {
  const browser = new PageClient(stack, someAddress(), options.userAgent);
  await browser.get('/sign-in');
  const result = await browser.post('/sign-in', { email, password, next: '/account' });
  expect(result.location).toBe('/account');
  expect((await browser.get('/account')).status).toBe(200);
  return browser;
}

/** Whether the browser's session still opens the account page (or is sent to sign in). */
async function signedIn(browser: PageClient): Promise<boolean> {
  const page = await browser.get('/account');
  if (page.status === 200) return true;
  expect(page.status).toBe(303);
  expect(page.response.headers.get('location')).toBe('/sign-in?next=/account');
  return false;
}

async function sessionsOf(userId: string) {
  return stack.deps.sql`
    select id, created_at, last_seen_at, client_address, user_agent
    from sessions where user_id = ${userId} order by created_at, id`;
}

async function sessionAudit(userId: string) {
  return stack.deps.sql`
    select action, outcome, org_id, partner_id, target_type, target_id, detail
    from audit_events where actor_user_id = ${userId} and action like 'session.%' order by id`;
}

/** The session ids the sessions page offers to sign out, in the order shown. */
const endButtons = (html: string) =>
  [...html.matchAll(/name="session" value="([0-9a-f]{64})"/g)].map((m) => m[1] as string);

describe('how long a session lasts', () => {
  it('ends after 30 minutes without a request, by the database clock', async () => {
    const owner = await createTestPartner(stack);
    const browser = await signIn(owner.email, owner.password);
    expect(await signedIn(browser)).toBe(true);

    await stack.deps
      .sql`update sessions set last_seen_at = now() - interval '29 minutes' where user_id = ${owner.userId}`;
    expect(await signedIn(browser)).toBe(true);
    // That request was activity: the idle clock starts again.
    const [touched] = await sessionsOf(owner.userId);
    expect(Date.now() - new Date(touched?.last_seen_at).getTime()).toBeLessThan(60_000);

    await stack.deps
      .sql`update sessions set last_seen_at = now() - interval '31 minutes' where user_id = ${owner.userId}`;
    expect(await signedIn(browser)).toBe(false);
    expect((await browser.get('/dashboard')).status).toBe(303);
  });

  it('writes last_seen_at at most once a minute', async () => {
    const owner = await createTestPartner(stack);
    const browser = await signIn(owner.email, owner.password);
    await stack.deps
      .sql`update sessions set last_seen_at = now() - interval '40 seconds' where user_id = ${owner.userId}`;
    const [before] = await sessionsOf(owner.userId);
    for (let i = 0; i < 3; i++) expect(await signedIn(browser)).toBe(true);
    const [after] = await sessionsOf(owner.userId);
    expect(after?.last_seen_at).toEqual(before?.last_seen_at);

    await stack.deps
      .sql`update sessions set last_seen_at = now() - interval '61 seconds' where user_id = ${owner.userId}`;
    expect(await signedIn(browser)).toBe(true);
    const [moved] = await sessionsOf(owner.userId);
    expect(Date.now() - new Date(moved?.last_seen_at).getTime()).toBeLessThan(5_000);
  });

  it('the dashboard’s own refreshes are not activity: an open tab does not keep an idle session alive', async () => {
    const owner = await createTestPartner(stack);
    const browser = await signIn(owner.email, owner.password);
    await stack.deps
      .sql`update sessions set last_seen_at = now() - interval '20 minutes' where user_id = ${owner.userId}`;
    const [before] = await sessionsOf(owner.userId);
    const refreshed = await stack.request('/dashboard', {
      headers: { cookie: `mandate_session=${browser.cookies.get('mandate_session')}`, 'x-mandate-live': '1' },
    });
    expect(refreshed.status).toBe(200);
    const [after] = await sessionsOf(owner.userId);
    expect(after?.last_seen_at).toEqual(before?.last_seen_at);
    expect(await signedIn(browser)).toBe(true); // a page the person opened is
    const [moved] = await sessionsOf(owner.userId);
    expect(Date.now() - new Date(moved?.last_seen_at).getTime()).toBeLessThan(5_000);
  });

  it('ends 12 hours after sign-in, however busy it is', async () => {
    const owner = await createTestPartner(stack);
    const browser = await signIn(owner.email, owner.password);
    await stack.deps.sql`
      update sessions set created_at = now() - interval '11 hours 59 minutes', last_seen_at = now()
      where user_id = ${owner.userId}`;
    expect(await signedIn(browser)).toBe(true);
    await stack.deps.sql`
      update sessions set created_at = now() - interval '12 hours 1 minute', last_seen_at = now()
      where user_id = ${owner.userId}`;
    expect(await signedIn(browser)).toBe(false);
  });

  it('follows SESSION_IDLE_MINUTES and SESSION_MAX_HOURS, and the cookie lives as long as the session may', async () => {
    const short = await createTestStack({
      database: stack.database,
      env: { SESSION_IDLE_MINUTES: '5', SESSION_MAX_HOURS: '1' },
    });
    try {
      const owner = await createTestPartner(short);
      const browser = new PageClient(short, someAddress());
      await browser.get('/sign-in');
      const result = await browser.post('/sign-in', { email: owner.email, password: owner.password, next: '/account' });
      expect(result.response.headers.getSetCookie().find((c) => c.startsWith('mandate_session='))).toMatch(
        /Max-Age=3600/,
      );

      await short.deps
        .sql`update sessions set last_seen_at = now() - interval '4 minutes' where user_id = ${owner.userId}`;
      expect(await signedIn(browser)).toBe(true);
      await short.deps
        .sql`update sessions set created_at = now() - interval '61 minutes', last_seen_at = now() where user_id = ${owner.userId}`;
      expect(await signedIn(browser)).toBe(false);

      const again = new PageClient(short, someAddress());
      await again.get('/sign-in');
      await again.post('/sign-in', { email: owner.email, password: owner.password, next: '/account' });
      await short.deps.sql`
        update sessions set last_seen_at = now() - interval '6 minutes'
        where user_id = ${owner.userId} and created_at > now() - interval '1 minute'`;
      expect(await signedIn(again)).toBe(false);
    } finally {
      await short.close();
    }
  });

  it('ended sessions are cleared away by the reconciler', async () => {
    const owner = await createTestPartner(stack);
    await signIn(owner.email, owner.password);
    const live = await signIn(owner.email, owner.password);
    const [idle] = await sessionsOf(owner.userId);
    await stack.deps.sql`update sessions set last_seen_at = now() - interval '2 hours' where id = ${idle?.id}`;
    await reconcile(stack.deps, { minAgeSeconds: 120 });
    expect((await sessionsOf(owner.userId)).map((s) => s.id)).not.toContain(idle?.id);
    expect(await signedIn(live)).toBe(true);
  });
});

describe('the sessions page', () => {
  it("lists one's own live sessions: started, last seen, address and browser, this one marked", async () => {
    const owner = await createTestPartner(stack);
    const longAgent = `Mozilla/5.0 (X11; Linux x86_64) ${'x'.repeat(1000)}`;
    const phone = await signIn(owner.email, owner.password, { userAgent: 'Phone Browser/1.0' });
    const laptop = await signIn(owner.email, owner.password, { userAgent: longAgent });
    // An ended one is not listed.
    const gone = await signIn(owner.email, owner.password, { userAgent: 'Old Browser/0.1' });
    await stack.deps.sql`
      update sessions set last_seen_at = now() - interval '31 minutes'
      where user_id = ${owner.userId} and user_agent = 'Old Browser/0.1'`;
    expect(await signedIn(gone)).toBe(false);
    // Another user's sessions are not listed either.
    const stranger = await createTestPartner(stack);
    await signIn(stranger.email, stranger.password, { userAgent: 'Stranger Browser/9' });

    const account = await laptop.get('/account');
    expect(account.html).toContain('href="/account/sessions"');
    const page = await laptop.get('/account/sessions');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Phone Browser/1.0');
    expect(page.html).toContain(phone.ip);
    expect(page.html).toContain(laptop.ip);
    expect(page.html).not.toContain('Old Browser/0.1');
    expect(page.html).not.toContain('Stranger Browser/9');
    expect(page.html).toContain('30 minutes');
    expect(page.html).toContain('12 hours');

    // Stored at most 200 characters of the user agent; the page shows what is stored.
    const rows = await sessionsOf(owner.userId);
    const stored = rows.find((r) => String(r.user_agent).startsWith('Mozilla/5.0'));
    expect(String(stored?.user_agent).length).toBeLessThanOrEqual(200);
    expect(page.html).not.toContain('x'.repeat(201));

    // This session is marked and has no "sign out" of its own here; the phone's has.
    const mine = /<tr[^>]*data-testid="this-session"[^>]*>(.*?)<\/tr>/s.exec(page.html)?.[1] ?? '';
    expect(mine).toContain(laptop.ip);
    expect(mine).toContain('This session');
    expect(mine).toContain('<td>Password</td>'); // how it was signed in
    const phoneRow = rows.find((r) => r.user_agent === 'Phone Browser/1.0');
    expect(endButtons(page.html)).toEqual([phoneRow?.id]);
  });

  it('"sign out everywhere else" ends the other sessions and keeps this one, audited in the organization', async () => {
    const owner = await createTestPartner(stack);
    const here = await signIn(owner.email, owner.password);
    const others = [await signIn(owner.email, owner.password), await signIn(owner.email, owner.password)];
    const stranger = await createTestPartner(stack);
    const strangers = await signIn(stranger.email, stranger.password);

    await here.get('/account/sessions');
    const done = await here.post('/account/sessions/end-others');
    expect(done.status).toBe(303);
    expect(done.location).toBe('/account/sessions?ended=others');
    expect((await here.get(done.location as string)).html).toContain('Signed out everywhere else');

    for (const other of others) expect(await signedIn(other)).toBe(false);
    expect(await signedIn(here)).toBe(true);
    expect(await signedIn(strangers)).toBe(true);
    expect(await sessionsOf(owner.userId)).toHaveLength(1);

    const audit = await sessionAudit(owner.userId);
    expect(audit.map((a) => [a.action, a.outcome, a.detail.ended])).toEqual([['session.end_others', 'succeeded', 2]]);
    expect(audit[0]).toMatchObject({ org_id: owner.partnerId, partner_id: owner.partnerId, target_id: owner.userId });
    const trail = await stack.request('/v1/audit?limit=10', { token: owner.token });
    const items = ((await trail.json()) as { items: { action: string }[] }).items.map((i) => i.action);
    expect(items).toContain('session.end_others');
  });

  it('signs out one other session by its id, audited', async () => {
    const owner = await createTestPartner(stack);
    const here = await signIn(owner.email, owner.password);
    const lost = await signIn(owner.email, owner.password, { userAgent: 'Lost Phone/1' });
    const kept = await signIn(owner.email, owner.password);
    await kept.get('/account'); // its address and browser are recorded by now

    const page = await here.get('/account/sessions');
    const [lostRow] = (await sessionsOf(owner.userId)).filter((r) => r.user_agent === 'Lost Phone/1');
    expect(endButtons(page.html)).toContain(lostRow?.id);
    const done = await here.post('/account/sessions/end', { session: String(lostRow?.id) });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/account/sessions?ended=one');

    expect(await signedIn(lost)).toBe(false);
    expect(await signedIn(kept)).toBe(true);
    expect(await signedIn(here)).toBe(true);
    const audit = await sessionAudit(owner.userId);
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([['session.end', 'succeeded']]);
    expect(audit[0]?.detail.userAgent).toBe('Lost Phone/1');
    expect(audit[0]?.detail.startedAt).toEqual(expect.any(String));
    // The session's id (the cookie's hash) is not put in the trail.
    expect(JSON.stringify(audit)).not.toContain(String(lostRow?.id));

    // Ending it again: already ended, nothing recorded.
    const again = await here.post('/account/sessions/end', { session: String(lostRow?.id) });
    expect(again.location).toBe('/account/sessions?ended=none');
    expect(await sessionAudit(owner.userId)).toHaveLength(1);
  });

  it("cannot end another user's session: nothing changes, and the answer is the one for an ended session", async () => {
    const owner = await createTestPartner(stack);
    const victim = await createTestPartner(stack);
    const attacker = await signIn(owner.email, owner.password);
    const victims = await signIn(victim.email, victim.password);
    const [victimSession] = await sessionsOf(victim.userId);

    await attacker.get('/account/sessions');
    const tried = await attacker.post('/account/sessions/end', { session: String(victimSession?.id) });
    expect(tried.status).toBe(303);
    expect(tried.location).toBe('/account/sessions?ended=none');
    expect(await signedIn(victims)).toBe(true);
    expect(await sessionsOf(victim.userId)).toHaveLength(1);
    expect(await sessionAudit(owner.userId)).toHaveLength(0);
    expect(await sessionAudit(victim.userId)).toHaveLength(0);

    // Nonsense ids are the same "already ended".
    for (const session of ['', 'not-an-id', `${victimSession?.id}00`]) {
      expect((await attacker.post('/account/sessions/end', { session })).location).toBe('/account/sessions?ended=none');
    }
    expect(await signedIn(victims)).toBe(true);
  });

  it('needs a signed-in user and the form’s CSRF token', async () => {
    const owner = await createTestPartner(stack);
    const here = await signIn(owner.email, owner.password);
    const other = await signIn(owner.email, owner.password);
    const [, otherRow] = await sessionsOf(owner.userId);

    const forged = await here.post('/account/sessions/end-others', {}, 'x'.repeat(43));
    expect(forged.status).toBe(403);
    const noToken = await here.post('/account/sessions/end', { session: String(otherRow?.id) }, null);
    expect(noToken.status).toBe(403);
    expect(await signedIn(other)).toBe(true);

    const nobody = new PageClient(stack, someAddress());
    const page = await nobody.get('/account/sessions');
    expect(page.status).toBe(303);
    expect(page.response.headers.get('location')).toBe('/sign-in?next=/account/sessions');
    await nobody.get('/sign-in');
    expect((await nobody.post('/account/sessions/end-others')).status).toBe(401);
    expect(await signedIn(other)).toBe(true);
  });

  it("a client admin uses it too, and the organization's trail shows it in plain words", async () => {
    const admin = await createClientAdmin(stack, 'Sessions Client');
    const here = await signIn(admin.email, CLIENT_PASSWORD);
    const other = await signIn(admin.email, CLIENT_PASSWORD);
    expect((await here.get('/account/sessions')).status).toBe(200);
    await here.post('/account/sessions/end-others');
    expect(await signedIn(other)).toBe(false);
    const audit = await sessionAudit(admin.userId);
    expect(audit.map((a) => [a.action, a.org_id, a.partner_id])).toEqual([['session.end_others', admin.orgId, null]]);
    const trail = await here.get('/org/delegations');
    expect(trail.html).toContain('Signed out everywhere else');
  });
});

describe('sessions end when what they were granted on changes', () => {
  it('a new password ends the other sessions, not this one', async () => {
    const admin = await createClientAdmin(stack, 'Password Client');
    const here = await signIn(admin.email, CLIENT_PASSWORD);
    const other = await signIn(admin.email, CLIENT_PASSWORD);
    await here.get('/account/password');
    const changed = await here.post('/account/password', {
      current: CLIENT_PASSWORD,
      password: 'a brand new long password',
      repeat: 'a brand new long password',
    });
    expect(changed.status).toBe(303);
    expect(await signedIn(other)).toBe(false);
    expect(await signedIn(here)).toBe(true);
  });

  it('turning two-factor sign-in on or off ends the other sessions, not this one', async () => {
    const owner = await createTestPartner(stack);
    const here = await signIn(owner.email, owner.password);
    const before = await signIn(owner.email, owner.password);
    const { secret, step, recoveryCodes } = await enrolTotp(here);
    expect(await signedIn(before)).toBe(false);
    expect(await signedIn(here)).toBe(true);

    // A second browser signs in with password and a recovery code, then the first turns it off.
    const other = new PageClient(stack, someAddress());
    await other.get('/sign-in');
    await other.post('/sign-in', { email: owner.email, password: owner.password, next: '/account' });
    const second = await other.post('/sign-in/two-factor', { code: String(recoveryCodes[0]), next: '/account' });
    expect(second.location).toBe('/account');
    // Started at the second step, the session has its address from the start.
    const rows = await sessionsOf(owner.userId);
    expect(rows.map((r) => r.client_address)).toContain(other.ip);
    expect(await signedIn(other)).toBe(true);

    const off = await here.post('/account/two-factor/disable', { code: totpCode(secret, step + 1) });
    expect(off.status).toBe(200);
    expect(await signedIn(other)).toBe(false);
    expect(await signedIn(here)).toBe(true);
  });

  it('a change of staff access through the API ends every session of the staff member', async () => {
    const owner = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'full');
    const browsers = [await signIn(staff.email, staff.password), await signIn(staff.email, staff.password)];
    const owners = await signIn(owner.email, owner.password);

    const changed = await stack.request(`/v1/staff/${staff.userId}/access`, {
      method: 'PUT',
      token: owner.token,
      json: { access: 'limited' },
    });
    expect(changed.status).toBe(200);
    for (const browser of browsers) expect(await signedIn(browser)).toBe(false);
    expect(await sessionsOf(staff.userId)).toHaveLength(0);
    expect(await signedIn(owners)).toBe(true);
    // Signing in again gives a session with the new access.
    const again = await signIn(staff.email, staff.password);
    expect(await signedIn(again)).toBe(true);
  });

  it("a change of staff access on the dashboard's staff page too", async () => {
    const owner = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'limited');
    const staffs = await signIn(staff.email, staff.password);
    const owners = await signIn(owner.email, owner.password);
    // As if the owner had just confirmed with a code (the step-up has tests of its own).
    await stack.deps.sql`update sessions set second_factor_at = now() where user_id = ${owner.userId}`;
    await owners.get('/dashboard/staff');
    const saved = await owners.post(`/dashboard/staff/${staff.userId}/access`, { access: 'none' });
    expect(saved.status).toBe(303);
    expect(await signedIn(staffs)).toBe(false);
    expect(await signedIn(owners)).toBe(true);
  });
});
