import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalMessages } from '../../../core/second-factor.ts';
import { amendmentLinkToken, sha256Hex } from '../../../lib/secrets.ts';
import { createActiveDelegation, postAmendment } from '../../helpers/amendment-fixtures.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { currentStep, enrolTotp, secretFromPage, totpCode, wrongCode } from '../../helpers/two-factor.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

/** A message as hono/jsx writes it into the page. */
const escaped = (text: string) => text.replaceAll("'", '&#39;');

/** A browser that has entered this email and password at /sign-in (and is sent on from there). */
async function passwordStep(email: string, password: string, next = '/dashboard', ip = '127.0.0.1') {
  const browser = new PageClient(stack, ip);
  await browser.get('/sign-in');
  const result = await browser.post('/sign-in', { email, password, next });
  return { browser, result };
}

/** A partner owner signed in with the password alone (before two-factor is on). */
async function signedInOwner() {
  const owner = await createTestPartner(stack);
  const { browser, result } = await passwordStep(owner.email, owner.password);
  expect(result.location).toBe('/dashboard');
  return { owner, browser };
}

async function auditOf(userId: string) {
  return stack.deps.sql`
    select action, outcome, org_id, partner_id, actor_user_id, target_id, detail
    from audit_events where actor_user_id = ${userId} and action like 'two_factor.%' order by id`;
}

async function sessionsOf(userId: string) {
  const [row] = await stack.deps.sql`select count(*)::int as n from sessions where user_id = ${userId}`;
  return row?.n as number;
}

describe('enrolling an authenticator app', () => {
  it('shows the QR code and the key, confirms with a first code, and gives ten recovery codes once', async () => {
    const { owner, browser } = await signedInOwner();
    const off = await browser.get('/account/two-factor');
    expect(off.status).toBe(200);
    expect(off.html).toContain('Two-factor sign-in is off');

    expect((await browser.post('/account/two-factor/start')).status).toBe(303);
    const pending = await browser.get('/account/two-factor');
    expect(pending.html).toMatch(/<svg[^>]*role="img"[^>]*aria-label="QR code for your authenticator app"/);
    const secret = secretFromPage(pending.html);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    // At rest the key is sealed: neither it nor its bytes in any common spelling are in the row.
    const [factor] = await stack.deps
      .sql`select secret_sealed, confirmed_at from user_factors where user_id = ${owner.userId}`;
    expect(factor?.confirmed_at).toBeNull();
    expect(String(factor?.secret_sealed)).toMatch(/^v1\./);
    expect(String(factor?.secret_sealed)).not.toContain(secret);

    // Not on until confirmed: the password alone still signs in.
    expect((await passwordStep(owner.email, owner.password)).result.location).toBe('/dashboard');

    const wrong = await browser.post('/account/two-factor/confirm', { code: wrongCode(secret) });
    expect(wrong.status).toBe(422);
    expect(wrong.html).toContain(escaped(refusalMessages.wrong));
    const [still] = await stack.deps.sql`select confirmed_at from user_factors where user_id = ${owner.userId}`;
    expect(still?.confirmed_at).toBeNull();

    const step = Math.floor(Date.now() / 30_000);
    const confirmed = await browser.post('/account/two-factor/confirm', { code: totpCode(secret, step) });
    expect(confirmed.status).toBe(200);
    const codes = [...confirmed.html.matchAll(/<li>([a-z2-9]{5}(?:-[a-z2-9]{5}){3})<\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);

    // Stored as SHA-256 of the code without dashes; the codes themselves nowhere.
    const stored = await stack.deps
      .sql`select code_hash, used_at from recovery_codes where user_id = ${owner.userId} order by code_hash`;
    expect(stored.map((r) => r.code_hash).sort()).toEqual(
      codes.map((c) => sha256Hex(String(c).replaceAll('-', ''))).sort(),
    );
    expect(stored.every((r) => r.used_at === null)).toBe(true);
    const [dump] = await stack.deps.sql`
      select (select string_agg(f::text, ' ') from user_factors f where f.user_id = ${owner.userId})
        || (select string_agg(r::text, ' ') from recovery_codes r where r.user_id = ${owner.userId}) as all`;
    for (const code of codes) expect(String(dump?.all)).not.toContain(String(code).replaceAll('-', ''));

    const on = await browser.get('/account/two-factor');
    expect(on.html).toContain('Two-factor sign-in is on');
    expect(on.html).toMatch(/data-testid="recovery-codes-left">10</);
    expect(on.html).not.toContain('totp-secret'); // the key is never shown again

    // Audited in the partner's own organization, where its owners read the trail.
    const audit = await auditOf(owner.userId);
    expect(audit.map((a) => [a.action, a.outcome, a.detail.reason ?? null])).toEqual([
      ['two_factor.enable', 'rejected', 'wrong'],
      ['two_factor.enable', 'succeeded', null],
    ]);
    expect(audit.every((a) => a.org_id === owner.partnerId && a.partner_id === owner.partnerId)).toBe(true);
    const trail = await stack.request(`/v1/audit?limit=10`, { token: owner.token });
    const items = ((await trail.json()) as { items: { action: string }[] }).items.map((i) => i.action);
    expect(items).toContain('two_factor.enable');
  });

  it('cannot be started twice over a confirmed one, nor confirmed after it went stale', async () => {
    const { owner, browser } = await signedInOwner();
    await browser.post('/account/two-factor/start');
    const secret = secretFromPage((await browser.get('/account/two-factor')).html);
    await stack.deps
      .sql`update user_factors set created_at = now() - interval '31 minutes' where user_id = ${owner.userId}`;
    const late = await browser.post('/account/two-factor/confirm', {
      code: totpCode(secret, Math.floor(Date.now() / 30_000)),
    });
    expect(late.status).toBe(422);
    expect(late.html).toContain(escaped(refusalMessages.enrolment_expired));

    await enrolTotp(browser);
    const again = await browser.post('/account/two-factor/start');
    expect(again.status).toBe(409);
    const [factor] = await stack.deps
      .sql`select count(*)::int as n from user_factors where user_id = ${owner.userId} and confirmed_at is not null`;
    expect(factor?.n).toBe(1);
  });

  it('asks for the password again when the sign-in was not just now (a borrowed session cannot set its own phone)', async () => {
    const { owner, browser } = await signedInOwner();
    await stack.deps
      .sql`update sessions set created_at = now() - interval '11 minutes' where user_id = ${owner.userId}`;
    const page = await browser.get('/account/two-factor');
    expect(page.html).toContain('name="current"');
    const without = await browser.post('/account/two-factor/start');
    expect(without.status).toBe(401);
    const wrong = await browser.post('/account/two-factor/start', { current: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('The current password is not right.');
    const [none] = await stack.deps.sql`select count(*)::int as n from user_factors where user_id = ${owner.userId}`;
    expect(none?.n).toBe(0);
    const right = await browser.post('/account/two-factor/start', { current: owner.password });
    expect(right.status).toBe(303);
    const [started] = await stack.deps.sql`select count(*)::int as n from user_factors where user_id = ${owner.userId}`;
    expect(started?.n).toBe(1);
  });

  it('a pending set-up is seen and confirmed only in the session that started it', async () => {
    const { owner, browser } = await signedInOwner();
    const { browser: other } = await passwordStep(owner.email, owner.password, '/dashboard', '10.64.0.2');
    expect((await browser.post('/account/two-factor/start')).status).toBe(303);
    const shown = await browser.get('/account/two-factor');
    const secret = secretFromPage(shown.html);
    const elsewhere = await other.get('/account/two-factor');
    expect(elsewhere.html).not.toContain(secret);
    expect(elsewhere.html).not.toContain('data-testid="totp-secret"');
    const stolen = await other.post('/account/two-factor/confirm', { code: totpCode(secret, currentStep()) });
    expect(stolen.status).toBe(422);
    const [row] = await stack.deps.sql`select confirmed_at from user_factors where user_id = ${owner.userId}`;
    expect(row?.confirmed_at).toBeNull();
  });

  it('adding an authenticator app next to a passkey needs the step-up, not only the password', async () => {
    const { owner, browser } = await signedInOwner();
    await stack.deps.sql`insert into passkeys (id, user_id, credential_id, public_key, name)
      values (${`pky_${owner.userId.slice(4)}`}, ${owner.userId}, ${`cred-${owner.userId}`}, 'x', 'Key')`;
    await stack.deps.sql`update sessions set created_at = now() - interval '11 minutes', second_factor_at = null
      where user_id = ${owner.userId}`;
    const started = await browser.post('/account/two-factor/start', { current: owner.password });
    expect(started.status).toBe(303);
    expect(started.location).toBe('/account/confirm?next=%2Faccount%2Ftwo-factor');
    const [row] = await stack.deps.sql`select count(*)::int as n from user_factors where user_id = ${owner.userId}`;
    expect(row?.n).toBe(0);
  });

  it('ends the other sessions of the user when it is turned on', async () => {
    const { owner, browser } = await signedInOwner();
    await passwordStep(owner.email, owner.password); // a second browser
    expect(await sessionsOf(owner.userId)).toBe(2);
    await enrolTotp(browser);
    expect(await sessionsOf(owner.userId)).toBe(1);
    expect((await browser.get('/dashboard')).status).toBe(200);
  });
});

describe('signing in with two-factor on', () => {
  it('asks for the code after the password; until then nothing opens', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step } = await enrolTotp(browser);
    const before = await sessionsOf(owner.userId);

    const { browser: other, result } = await passwordStep(owner.email, owner.password, '/dashboard/delegations');
    expect(result.status).toBe(303);
    expect(result.location).toBe('/sign-in/two-factor?next=%2Fdashboard%2Fdelegations');
    expect(other.cookies.has('mandate_session')).toBe(false);
    expect(other.cookies.has('mandate_sign_in')).toBe(true);
    expect(await sessionsOf(owner.userId)).toBe(before);

    // Half signed in: the dashboard, the organization's pages and the account pages all
    // send it to sign in; even the challenge's token used as a session cookie opens nothing.
    for (const path of ['/dashboard', '/dashboard/staff', '/org/delegations', '/account', '/account/two-factor']) {
      const page = await other.get(path);
      expect(page.status, path).toBe(303);
      expect(page.response.headers.get('location'), path).toMatch(/^\/sign-in\?next=/);
    }
    const forged = new PageClient(stack);
    forged.cookies.set('mandate_session', other.cookies.get('mandate_sign_in') as string);
    expect((await forged.get('/dashboard')).status).toBe(303);
    expect((await other.post('/account/two-factor/disable', { code: totpCode(secret, step + 1) })).status).toBe(401);

    const page = await other.get(result.location as string);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Enter your code');
    const done = await other.post('/sign-in/two-factor', {
      code: totpCode(secret, step + 1),
      next: '/dashboard/delegations',
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/dashboard/delegations');
    expect(other.cookies.has('mandate_sign_in')).toBe(false);
    expect((await other.get('/dashboard/delegations')).status).toBe(200);
    const [left] = await stack.deps
      .sql`select count(*)::int as n from sign_in_challenges where user_id = ${owner.userId}`;
    expect(left?.n).toBe(0);

    const audit = await auditOf(owner.userId);
    expect(audit.at(-1)).toMatchObject({
      action: 'two_factor.code',
      outcome: 'succeeded',
      org_id: owner.partnerId,
      detail: { purpose: 'sign_in' },
    });
  });

  it('refuses a code used before (a replay) with a message, audited, and signs nobody in', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step } = await enrolTotp(browser);

    // The enrolment's own code cannot sign in.
    const first = await passwordStep(owner.email, owner.password);
    const replayed = await first.browser.post('/sign-in/two-factor', { code: totpCode(secret, step) });
    expect(replayed.status).toBe(401);
    expect(replayed.html).toContain(escaped(refusalMessages.replayed));
    expect(first.browser.cookies.has('mandate_session')).toBe(false);

    // The next code works, once: the same code in another browser is a replay.
    expect((await first.browser.post('/sign-in/two-factor', { code: totpCode(secret, step + 1) })).status).toBe(303);
    const second = await passwordStep(owner.email, owner.password);
    const again = await second.browser.post('/sign-in/two-factor', { code: totpCode(secret, step + 1) });
    expect(again.status).toBe(401);
    expect(again.html).toContain(escaped(refusalMessages.replayed));
    expect(second.browser.cookies.has('mandate_session')).toBe(false);

    const [factor] = await stack.deps.sql`select last_used_step from user_factors where user_id = ${owner.userId}`;
    expect(Number(factor?.last_used_step)).toBe(step + 1);
    const audit = await auditOf(owner.userId);
    expect(
      audit.filter((a) => a.action === 'two_factor.code').map((a) => [a.outcome, a.detail.reason ?? null]),
    ).toEqual([
      ['rejected', 'replayed'],
      ['succeeded', null],
      ['rejected', 'replayed'],
    ]);
  });

  it('refuses wrong and expired codes with a message each, audited, and limits tries per account', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step } = await enrolTotp(browser);
    const { browser: other } = await passwordStep(owner.email, owner.password);

    const wrong = await other.post('/sign-in/two-factor', { code: wrongCode(secret, step) });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain(escaped(refusalMessages.wrong));
    const expired = await other.post('/sign-in/two-factor', { code: totpCode(secret, step - 4) });
    expect(expired.status).toBe(401);
    expect(expired.html).toContain(escaped(refusalMessages.expired));
    const junk = await other.post('/sign-in/two-factor', { code: '<script>' });
    expect(junk.status).toBe(401);
    expect(junk.html).not.toContain('<script>');

    // Five failures per account in 15 minutes: from then on even the right code waits,
    // from any browser (someone holding the password cannot keep guessing).
    await other.post('/sign-in/two-factor', { code: wrongCode(secret, step) });
    await other.post('/sign-in/two-factor', { code: wrongCode(secret, step) });
    const { browser: third } = await passwordStep(owner.email, owner.password);
    const limited = await third.post('/sign-in/two-factor', { code: totpCode(secret, step + 1) });
    expect(limited.status).toBe(429);
    expect(limited.response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.html).toContain(escaped(refusalMessages.rate_limited));
    expect(third.cookies.has('mandate_session')).toBe(false);
    const [factor] = await stack.deps.sql`select last_used_step from user_factors where user_id = ${owner.userId}`;
    expect(Number(factor?.last_used_step)).toBe(step); // nothing spent

    const audit = await auditOf(owner.userId);
    expect(audit.filter((a) => a.action === 'two_factor.code').map((a) => [a.outcome, a.detail.reason])).toEqual([
      ['rejected', 'wrong'],
      ['rejected', 'expired'],
      ['rejected', 'wrong'],
      ['rejected', 'wrong'],
      ['rejected', 'wrong'],
      ['rejected', 'rate_limited'],
    ]);
  });

  it('limits codes per account and address: a stranger holding the password cannot keep the owner’s codes refused', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step, recoveryCodes } = await enrolTotp(browser);
    // Five wrong codes from one address: that address waits…
    const { browser: guesser } = await passwordStep(owner.email, owner.password, '/dashboard', '10.61.0.1');
    for (let i = 0; i < 5; i++) await guesser.post('/sign-in/two-factor', { code: wrongCode(secret, step) });
    const held = await guesser.post('/sign-in/two-factor', { code: totpCode(secret, step + 1) });
    expect(held.status).toBe(429);
    // …the owner, elsewhere, does not.
    const { browser: ownerNow } = await passwordStep(owner.email, owner.password, '/dashboard', '10.61.0.9');
    const signedIn = await ownerNow.post('/sign-in/two-factor', {
      code: totpCode(secret, step + 1),
      next: '/dashboard',
    });
    expect(signedIn.status).toBe(303);
    expect(ownerNow.cookies.has('mandate_session')).toBe(true);

    // Twenty wrong codes from four addresses: codes wait for the account everywhere (the
    // password is known to someone), but a recovery code — unguessable — still signs in.
    for (const host of [2, 3, 4, 5]) {
      const { browser: b } = await passwordStep(owner.email, owner.password, '/dashboard', `10.61.0.${host}`);
      for (let i = 0; i < 5; i++) await b.post('/sign-in/two-factor', { code: wrongCode(secret, step) });
    }
    const { browser: fifth } = await passwordStep(owner.email, owner.password, '/dashboard', '10.61.0.10');
    const codeHeld = await fifth.post('/sign-in/two-factor', { code: totpCode(secret, step + 2) });
    expect(codeHeld.status).toBe(429);
    expect(codeHeld.html).toContain(escaped(refusalMessages.rate_limited));
    const recovered = await fifth.post('/sign-in/two-factor', { code: recoveryCodes[0] as string, next: '/dashboard' });
    expect(recovered.status).toBe(303);
    expect(fifth.cookies.has('mandate_session')).toBe(true);
  });

  it('a password change ends second steps already started with the old password', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step } = await enrolTotp(browser);
    const { browser: stranger } = await passwordStep(owner.email, owner.password, '/dashboard', '10.63.0.1');
    await browser.get('/account/password');
    const changed = await browser.post('/account/password', {
      current: owner.password,
      password: 'a brand new password 2',
      repeat: 'a brand new password 2',
    });
    expect(changed.status).toBe(303);
    const late = await stranger.post('/sign-in/two-factor', { code: totpCode(secret, step + 1), next: '/dashboard' });
    expect(late.status).toBe(401);
    expect(late.html).toContain(escaped(refusalMessages.sign_in_expired));
    expect(stranger.cookies.has('mandate_session')).toBe(false);
  });

  it('takes a recovery code instead of a code, once', async () => {
    const { owner, browser } = await signedInOwner();
    const { recoveryCodes } = await enrolTotp(browser);
    const code = recoveryCodes[3] as string;

    const first = await passwordStep(owner.email, owner.password);
    const used = await first.browser.post('/sign-in/two-factor', {
      code: code.toUpperCase().replaceAll('-', ' '),
      next: '/dashboard',
    });
    expect(used.status).toBe(303);
    expect(used.location).toBe('/dashboard');
    expect((await first.browser.get('/account/two-factor')).html).toMatch(/data-testid="recovery-codes-left">9</);

    const second = await passwordStep(owner.email, owner.password);
    const reused = await second.browser.post('/sign-in/two-factor', { code });
    expect(reused.status).toBe(401);
    expect(reused.html).toContain(escaped(refusalMessages.recovery_code_used));
    expect(second.browser.cookies.has('mandate_session')).toBe(false);
    const unknown = await second.browser.post('/sign-in/two-factor', { code: 'aaaaa-bbbbb-ccccc-ddddd' });
    expect(unknown.html).toContain(escaped(refusalMessages.wrong));

    const [row] = await stack.deps.sql`
      select count(*) filter (where used_at is not null)::int as used from recovery_codes where user_id = ${owner.userId}`;
    expect(row?.used).toBe(1);
    const audit = await auditOf(owner.userId);
    expect(
      audit
        .filter((a) => a.action === 'two_factor.recovery_code')
        .map((a) => [a.outcome, a.detail.reason ?? null, a.detail.recoveryCodesLeft ?? null]),
    ).toEqual([
      ['succeeded', null, 9],
      ['rejected', 'recovery_code_used', null],
      ['rejected', 'wrong', null],
    ]);
  });

  it('refuses a second step that took too long, audited, and sends back to the password', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step } = await enrolTotp(browser);
    const { browser: other } = await passwordStep(owner.email, owner.password);
    await stack.deps
      .sql`update sign_in_challenges set expires_at = now() - interval '1 second' where user_id = ${owner.userId}`;
    const late = await other.post('/sign-in/two-factor', { code: totpCode(secret, step + 1) });
    expect(late.status).toBe(401);
    expect(late.html).toContain(escaped(refusalMessages.sign_in_expired));
    expect(late.html).toContain('action="/sign-in"');
    expect(other.cookies.has('mandate_session')).toBe(false);
    const [factor] = await stack.deps.sql`select last_used_step from user_factors where user_id = ${owner.userId}`;
    expect(Number(factor?.last_used_step)).toBe(step);
    expect((await auditOf(owner.userId)).at(-1)).toMatchObject({
      action: 'two_factor.code',
      outcome: 'rejected',
      detail: { reason: 'sign_in_expired' },
    });
    const [left] = await stack.deps
      .sql`select count(*)::int as n from sign_in_challenges where user_id = ${owner.userId}`;
    expect(left?.n).toBe(0);

    // The second step's page of an expired (or no) challenge: back to the password.
    const again = await passwordStep(owner.email, owner.password);
    await stack.deps
      .sql`update sign_in_challenges set expires_at = now() - interval '1 second' where user_id = ${owner.userId}`;
    const page = await again.browser.get('/sign-in/two-factor?next=/dashboard');
    expect(page.status).toBe(401);
    expect(page.html).toContain(escaped(refusalMessages.sign_in_expired));
    expect(again.browser.cookies.has('mandate_sign_in')).toBe(false);
    const stranger = new PageClient(stack);
    await stranger.get('/sign-in');
    const before = (await auditOf(owner.userId)).length;
    expect((await stranger.post('/sign-in/two-factor', { code: '123456' })).status).toBe(401);
    expect((await auditOf(owner.userId)).length).toBe(before);
  });
});

describe('turning two-factor off', () => {
  it('needs a fresh code: a wrong or used one changes nothing; a right one removes it and its recovery codes', async () => {
    const { owner, browser } = await signedInOwner();
    const { secret, step } = await enrolTotp(browser);

    const wrong = await browser.post('/account/two-factor/disable', { code: wrongCode(secret, step) });
    expect(wrong.status).toBe(422);
    expect(wrong.html).toContain(escaped(refusalMessages.wrong));
    const used = await browser.post('/account/two-factor/disable', { code: totpCode(secret, step) });
    expect(used.status).toBe(422);
    expect(used.html).toContain(escaped(refusalMessages.replayed));
    const [kept] = await stack.deps.sql`select count(*)::int as n from user_factors where user_id = ${owner.userId}`;
    expect(kept?.n).toBe(1);

    const off = await browser.post('/account/two-factor/disable', { code: totpCode(secret, step + 1) });
    expect(off.status).toBe(200);
    expect(off.html).toContain('Two-factor sign-in is off');
    const [gone] = await stack.deps.sql`
      select (select count(*)::int from user_factors where user_id = ${owner.userId}) as factors,
             (select count(*)::int from recovery_codes where user_id = ${owner.userId}) as codes`;
    expect(gone).toEqual({ factors: 0, codes: 0 });
    expect((await passwordStep(owner.email, owner.password)).result.location).toBe('/dashboard');

    const audit = await auditOf(owner.userId);
    expect(
      audit.slice(-4).map((a) => [a.action, a.outcome, a.detail.purpose ?? null, a.detail.reason ?? null]),
    ).toEqual([
      ['two_factor.code', 'rejected', 'disable', 'wrong'],
      ['two_factor.code', 'rejected', 'disable', 'replayed'],
      ['two_factor.code', 'succeeded', 'disable', null],
      ['two_factor.disable', 'succeeded', null, null],
    ]);
  });
});

describe('a client admin with two-factor on', () => {
  it('signing in from an offer page is asked for the code, lands back on the offer and can accept', async () => {
    const fixture = await createOfferFixture(stack, { partnerName: 'Two Factor Partner' });
    const admin = await createClientAdmin(stack, 'Contoso');
    const { browser: setup } = await passwordStep(admin.email, 'correct horse battery staple', '/org/delegations');
    const { secret, step } = await enrolTotp(setup);

    const browser = new PageClient(stack);
    const token = fixture.reusableToken;
    await browser.get(`/offers/${token}`);
    const signIn = await browser.post(`/offers/${token}/sign-in`, {
      email: admin.email,
      password: 'correct horse battery staple',
    });
    expect(signIn.status).toBe(303);
    expect(signIn.location).toBe(`/sign-in/two-factor?next=${encodeURIComponent(`/offers/${token}`)}`);
    // Half signed in: the offer still shows its sign-in form, and accepting is refused.
    expect((await browser.get(`/offers/${token}`)).html).not.toContain('Signed in as');
    expect((await browser.post(`/offers/${token}/accept`)).status).toBe(401);

    const page = await browser.get(signIn.location as string);
    expect(page.html).toContain(`name="next" value="/offers/${token}"`);
    const done = await browser.post('/sign-in/two-factor', {
      code: totpCode(secret, step + 1),
      next: `/offers/${token}`,
    });
    expect(done.location).toBe(`/offers/${token}`);
    expect((await browser.get(`/offers/${token}`)).html).toContain(`Signed in as ${admin.email}`);
    expect((await browser.post(`/offers/${token}/accept`)).status).toBe(303);

    // The organization sees its admin's two-factor events on its own page.
    const org = await browser.get('/org/delegations');
    expect(org.html).toContain('Turned on two-factor sign-in');
    expect(org.html).toContain('Entered a code from an authenticator app');
    const audit = await auditOf(admin.userId);
    expect(audit.every((a) => a.org_id === admin.orgId && a.partner_id === null)).toBe(true);
  });

  it('signing in from an amendment link is asked for the code too, and lands back on the amendment', async () => {
    const { admin, delegationId, owner } = await createActiveDelegation(stack, ['password_admin']);
    const { browser: setup } = await passwordStep(admin.email, 'correct horse battery staple', '/org/delegations');
    const { secret, step } = await enrolTotp(setup);
    const proposal = await postAmendment(stack, owner, delegationId, { addRoles: ['domain_admin'] });
    expect(proposal.status).toBe(202);
    const link = `/amendments/${amendmentLinkToken(stack.config.linkSecret, proposal.body.id, admin.userId)}`;

    const browser = new PageClient(stack);
    await browser.get(link);
    const signIn = await browser.post(`${link}/sign-in`, {
      email: admin.email,
      password: 'correct horse battery staple',
    });
    expect(signIn.location).toBe(`/sign-in/two-factor?next=${encodeURIComponent(link)}`);
    expect((await browser.get(link)).html).not.toContain('Accept the change');
    const done = await browser.post('/sign-in/two-factor', { code: totpCode(secret, step + 1), next: link });
    expect(done.location).toBe(link);
    expect((await browser.get(link)).html).toContain('Accept the change');
  });
});
