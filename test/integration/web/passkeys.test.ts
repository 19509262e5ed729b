import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passkeyScriptPaths } from '../../../api/web/shared/passkey-script.ts';
import { type PasskeyRefusal, passkeyRefusalMessages } from '../../../core/passkeys.ts';
import { sha256Hex } from '../../../lib/secrets.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { stepUp } from '../../helpers/dashboard.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { type AnswerOptions, SoftAuthenticator } from '../../helpers/passkey-authenticator.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let origin: string;

beforeAll(async () => {
  stack = await createTestStack();
  origin = new URL(stack.config.publicUrl).origin;
});
afterAll(() => stack.close());

/** A message as hono/jsx writes it into the page. */
const escaped = (text: string) => text.replaceAll("'", '&#39;').replaceAll('"', '&quot;');

type Owner = Awaited<ReturnType<typeof createTestPartner>>;

let clients = 0;
/** A browser at an address of its own: the per-address sign-in limits are not what these tests are about. */
const newBrowser = () => {
  clients += 1;
  return new PageClient(stack, `10.0.${Math.floor(clients / 250)}.${(clients % 250) + 1}`);
};

async function passwordStep(owner: Owner, next = '/dashboard') {
  const browser = newBrowser();
  await browser.get('/sign-in');
  const result = await browser.post('/sign-in', { email: owner.email, password: owner.password, next });
  return { browser, result };
}

async function signedInOwner() {
  const owner = await createTestPartner(stack);
  const { browser, result } = await passwordStep(owner);
  expect(result.location).toBe('/dashboard');
  return { owner, browser };
}

/** Options from a passkey form's `data-options` endpoint. */
async function optionsFrom(browser: PageClient, path: string): Promise<{ challenge: string }> {
  const answered = await browser.post(path);
  expect(answered.status, answered.html).toBe(200);
  expect(answered.response.headers.get('cache-control')).toBe('no-store');
  return (JSON.parse(answered.html) as { options: { challenge: string } }).options;
}

async function registerPasskey(browser: PageClient, name = 'Work laptop') {
  const authenticator = new SoftAuthenticator(origin);
  const options = await optionsFrom(browser, '/account/passkeys/options');
  const result = await browser.post('/account/passkeys', { name, answer: authenticator.register(options) });
  return { authenticator, result };
}

/** "Sign in with a passkey" from a fresh browser: options, then the answer (bent as asked). */
async function passkeyAlone(authenticator: SoftAuthenticator, userId: string | null, bent: AnswerOptions = {}) {
  const browser = newBrowser();
  await browser.get('/sign-in');
  const options = await optionsFrom(browser, '/sign-in/passkey/options');
  const answer = authenticator.answer(options, userId, bent);
  const result = await browser.post('/sign-in/passkey', { answer, next: '/dashboard' });
  return { browser, result, answer };
}

async function passkeyAudit(userId: string) {
  return stack.deps.sql`
    select action, outcome, org_id, detail from audit_events
    where actor_user_id = ${userId} and action like 'passkey.%' order by id`;
}

async function storedPasskeys(userId: string) {
  return stack.deps
    .sql`select name, sign_count, last_used_at from passkeys where user_id = ${userId} order by created_at`;
}

async function sessionsOf(userId: string) {
  return stack.deps.sql`select sign_in_method, second_factor_at from sessions where user_id = ${userId}`;
}

/** A refusal as the page shows it, and that nothing but the trail changed. */
function expectRefusedPage(result: { status: number; html: string; location: string | null }, reason: PasskeyRefusal) {
  expect(result.status).toBe(401);
  expect(result.location).toBeNull();
  expect(result.html).toContain(escaped(passkeyRefusalMessages[reason]));
}

describe('adding a passkey', () => {
  it('stores it, gives recovery codes with a first factor, ends the other sessions, and audits it', async () => {
    const { owner, browser } = await signedInOwner();
    const elsewhere = await passwordStep(owner);
    expect(elsewhere.result.location).toBe('/dashboard');
    expect(await sessionsOf(owner.userId)).toHaveLength(2);

    const page = await browser.get('/account/passkeys');
    expect(page.status).toBe(200);
    expect(page.html).toContain('You have no passkeys yet.');
    expect(page.html).toContain('data-passkey="register"');

    const { result } = await registerPasskey(browser);
    expect(result.status).toBe(200);
    expect(result.html).toContain('Your passkey is added');
    const codes = [...result.html.matchAll(/<li>([a-z2-9]{5}(?:-[a-z2-9]{5}){3})<\/li>/g)];
    expect(codes).toHaveLength(10);

    const [stored] = await storedPasskeys(owner.userId);
    expect(stored?.name).toBe('Work laptop');
    // The other browser is signed out; this one stays.
    expect(await sessionsOf(owner.userId)).toHaveLength(1);
    expect((await elsewhere.browser.get('/account/passkeys')).status).toBe(303);
    const listed = await browser.get('/account/passkeys');
    expect(listed.html).toContain('Work laptop');
    expect(listed.html).toMatch(/data-testid="recovery-codes-left">10</);

    // A second passkey: no new recovery codes, back to the list.
    const second = await registerPasskey(browser, 'Security key');
    expect(second.result.status).toBe(303);
    expect(second.result.location).toBe('/account/passkeys?done=added');
    expect(await storedPasskeys(owner.userId)).toHaveLength(2);

    const audit = await passkeyAudit(owner.userId);
    expect(audit.map((a) => [a.action, a.outcome, a.detail.recoveryCodes ?? null])).toEqual([
      ['passkey.register', 'succeeded', 10],
      ['passkey.register', 'succeeded', null],
    ]);
    expect(audit.every((a) => a.org_id === owner.partnerId)).toBe(true);
  });

  it('refuses an answer made for another site, a reused challenge and a missing name: nothing stored, audited', async () => {
    const { owner, browser } = await signedInOwner();
    const authenticator = new SoftAuthenticator(origin);

    const options = await optionsFrom(browser, '/account/passkeys/options');
    const foreign = authenticator.register(options, { origin: 'https://mandate.example.net' });
    const refused = await browser.post('/account/passkeys', { name: 'Laptop', answer: foreign });
    expect(refused.status).toBe(422);
    expect(refused.html).toContain(escaped(passkeyRefusalMessages.wrong_origin));

    const otherRp = await optionsFrom(browser, '/account/passkeys/options');
    const wrongRp = await browser.post('/account/passkeys', {
      name: 'Laptop',
      answer: authenticator.register(otherRp, { rpId: 'mandate.example.net' }),
    });
    expect(wrongRp.html).toContain(escaped(passkeyRefusalMessages.wrong_origin));

    const fresh = await optionsFrom(browser, '/account/passkeys/options');
    const answer = authenticator.register(fresh);
    const unnamed = await browser.post('/account/passkeys', { name: '  ', answer });
    expect(unnamed.html).toContain(escaped(passkeyRefusalMessages.bad_name));
    expect((await browser.post('/account/passkeys', { name: 'Laptop', answer })).status).toBe(200);
    // The same answer again: its challenge is spent.
    const replayed = await browser.post('/account/passkeys', { name: 'Laptop again', answer });
    expect(replayed.html).toContain(escaped(passkeyRefusalMessages.challenge_unknown));
    expect(await storedPasskeys(owner.userId)).toHaveLength(1);

    const audit = await passkeyAudit(owner.userId);
    expect(audit.map((a) => [a.outcome, a.detail.reason ?? null])).toEqual([
      ['rejected', 'wrong_origin'],
      ['rejected', 'wrong_origin'],
      ['rejected', 'bad_name'],
      ['succeeded', null],
      ['rejected', 'challenge_unknown'],
    ]);
  });

  it('needs a session and the form token', async () => {
    const anonymous = newBrowser();
    await anonymous.get('/sign-in');
    const options = await anonymous.post('/account/passkeys/options');
    expect(options.status).toBe(401);
    expect(JSON.parse(options.html)).toEqual({ error: 'Sign in first.' });

    const { browser } = await signedInOwner();
    const forged = await browser.post('/account/passkeys/options', {}, 'x'.repeat(43));
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.html).error).toMatch(/not sent from this site/);

    // The right token, from a page of another site: refused on its Origin, no challenge made.
    const challenges = async () =>
      (await stack.deps.sql`select count(*)::int as n from passkey_challenges where purpose = 'register'`)[0]?.n;
    const before = await challenges();
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const crossSite = await stack.request('/account/passkeys/options', {
      method: 'POST',
      body: new URLSearchParams({ csrf: browser.cookies.get('mandate_csrf') ?? '' }).toString(),
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: string }).error).toBe('This form was not sent from this site.');
    expect(await challenges()).toBe(before);
  });
});

describe('signing in with a passkey alone', () => {
  it('starts a session with its second factor passed, and moves the counter', async () => {
    const { owner, browser } = await signedInOwner();
    const { authenticator } = await registerPasskey(browser);
    const { result, browser: other } = await passkeyAlone(authenticator, owner.userId);
    expect(result.status).toBe(303);
    expect(result.location).toBe('/dashboard');
    expect((await other.get('/dashboard')).status).toBe(200);
    const [stored] = await storedPasskeys(owner.userId);
    expect(stored?.sign_count).toBe(String(authenticator.signCount));
    expect(stored?.last_used_at).not.toBeNull();
    const methods = (await sessionsOf(owner.userId)).map((s) => [s.sign_in_method, s.second_factor_at !== null]);
    expect(methods).toContainEqual(['passkey', true]);
  });

  it('refuses another site, a replay, a counter that went back, an unverified user: nothing changed, audited', async () => {
    const { owner, browser } = await signedInOwner();
    const { authenticator } = await registerPasskey(browser);
    const sessionsBefore = (await sessionsOf(owner.userId)).length;

    const foreign = await passkeyAlone(authenticator, owner.userId, { origin: 'https://phish.example' });
    expectRefusedPage(foreign.result, 'wrong_origin');
    const wrongRp = await passkeyAlone(authenticator, owner.userId, { rpId: 'phish.example' });
    expectRefusedPage(wrongRp.result, 'wrong_origin');

    const good = await passkeyAlone(authenticator, owner.userId);
    expect(good.result.status).toBe(303);
    // The very same answer again (captured on the way, say): its challenge was spent.
    const replay = newBrowser();
    await replay.get('/sign-in');
    const replayed = await replay.post('/sign-in/passkey', { answer: good.answer });
    expectRefusedPage(replayed, 'challenge_unknown');

    const countBefore = authenticator.signCount;
    const cloned = await passkeyAlone(authenticator, owner.userId, { signCount: countBefore - 1 });
    expectRefusedPage(cloned.result, 'counter_regressed');
    const [stored] = await storedPasskeys(owner.userId);
    expect(Number(stored?.sign_count)).toBe(countBefore);

    const unverified = await passkeyAlone(authenticator, owner.userId, { userVerified: false });
    expectRefusedPage(unverified.result, 'not_verified');

    // A registration's challenge does not sign in.
    const registerOptions = await optionsFrom(browser, '/account/passkeys/options');
    const anon = newBrowser();
    await anon.get('/sign-in');
    const crossed = await anon.post('/sign-in/passkey', {
      answer: authenticator.answer(registerOptions, owner.userId),
    });
    expectRefusedPage(crossed, 'challenge_unknown');

    // No answer at all (the page without its script).
    const scriptless = newBrowser();
    await scriptless.get('/sign-in');
    expectRefusedPage(await scriptless.post('/sign-in/passkey', { answer: '' }), 'no_answer');

    // Only the one good sign-in started a session.
    expect((await sessionsOf(owner.userId)).length).toBe(sessionsBefore + 1);
    const audit = await passkeyAudit(owner.userId);
    expect(
      audit.filter((a) => a.action === 'passkey.sign_in').map((a) => [a.outcome, a.detail.reason ?? null]),
    ).toEqual([
      ['rejected', 'wrong_origin'],
      ['rejected', 'wrong_origin'],
      ['succeeded', null],
      ['rejected', 'challenge_unknown'],
      ['rejected', 'counter_regressed'],
      ['rejected', 'not_verified'],
      ['rejected', 'challenge_unknown'],
    ]);
    expect(audit.every((a) => a.org_id === owner.partnerId)).toBe(true);
  });

  it('refuses an answer altered after signing, and one whose challenge expired', async () => {
    const { owner, browser } = await signedInOwner();
    const { authenticator } = await registerPasskey(browser);

    // Signed for one challenge, its clientDataJSON then pointed at another live one.
    const signIn = newBrowser();
    await signIn.get('/sign-in');
    const first = await optionsFrom(signIn, '/sign-in/passkey/options');
    const second = await optionsFrom(signIn, '/sign-in/passkey/options');
    const answer = JSON.parse(authenticator.answer(first, owner.userId));
    const clientData = JSON.parse(Buffer.from(answer.response.clientDataJSON, 'base64url').toString());
    answer.response.clientDataJSON = Buffer.from(
      JSON.stringify({ ...clientData, challenge: second.challenge }),
    ).toString('base64url');
    expectRefusedPage(await signIn.post('/sign-in/passkey', { answer: JSON.stringify(answer) }), 'invalid_signature');

    const late = await optionsFrom(signIn, '/sign-in/passkey/options');
    await stack.deps.sql`update passkey_challenges set expires_at = now() - interval '1 second'`;
    const expired = await signIn.post('/sign-in/passkey', { answer: authenticator.answer(late, owner.userId) });
    expectRefusedPage(expired, 'challenge_unknown');

    const [stored] = await storedPasskeys(owner.userId);
    expect(stored?.last_used_at).toBeNull();
    const audit = await passkeyAudit(owner.userId);
    expect(audit.filter((a) => a.action === 'passkey.sign_in').map((a) => a.detail.reason)).toEqual([
      'invalid_signature',
      'challenge_unknown',
    ]);
  });

  it('refuses a passkey nobody registered, with a message', async () => {
    const stranger = new SoftAuthenticator(origin);
    const { result } = await passkeyAlone(stranger, null);
    expectRefusedPage(result, 'unknown_passkey');
  });
});

describe('the second step with a passkey', () => {
  it('a password sign-in asks for the passkey, which finishes it', async () => {
    const { owner, browser } = await signedInOwner();
    const { authenticator } = await registerPasskey(browser);

    const { browser: signingIn, result } = await passwordStep(owner);
    expect(result.status).toBe(303);
    expect(result.location).toBe('/sign-in/two-factor?next=%2Fdashboard');
    const page = await signingIn.get('/sign-in/two-factor?next=/dashboard');
    expect(page.html).toContain('Confirm with your passkey');
    expect(page.html).toContain('data-options="/sign-in/two-factor/passkey/options"');
    expect(page.html).toContain('A recovery code');
    expect(page.response.headers.get('content-security-policy')).toContain("script-src 'self'");

    const options = await optionsFrom(signingIn, '/sign-in/two-factor/passkey/options');
    const done = await signingIn.post('/sign-in/two-factor/passkey', {
      answer: authenticator.answer(options, owner.userId),
      next: '/dashboard',
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/dashboard');
    expect((await signingIn.get('/dashboard')).status).toBe(200);
    const methods = (await sessionsOf(owner.userId)).map((s) => s.sign_in_method);
    expect(methods).toContain('password_passkey');
  });

  it("refuses another user's passkey: no session, the step stays open, audited for the user signing in", async () => {
    const alice = await signedInOwner();
    const aliceKey = (await registerPasskey(alice.browser)).authenticator;
    const mallory = await signedInOwner();
    const malloryKey = (await registerPasskey(mallory.browser)).authenticator;

    const { browser: signingIn } = await passwordStep(alice.owner);
    const options = await optionsFrom(signingIn, '/sign-in/two-factor/passkey/options');
    const refused = await signingIn.post('/sign-in/two-factor/passkey', {
      answer: malloryKey.answer(options, mallory.owner.userId),
      next: '/dashboard',
    });
    expectRefusedPage(refused, 'other_user');
    expect(refused.html).toContain('Confirm with your passkey'); // still the second step
    expect((await signingIn.get('/dashboard')).status).toBe(303);
    const [malloryStored] = await storedPasskeys(mallory.owner.userId);
    expect(malloryStored?.last_used_at).toBeNull();

    // The step is still open: Alice's own passkey finishes it.
    const again = await optionsFrom(signingIn, '/sign-in/two-factor/passkey/options');
    const done = await signingIn.post('/sign-in/two-factor/passkey', {
      answer: aliceKey.answer(again, alice.owner.userId),
      next: '/dashboard',
    });
    expect(done.location).toBe('/dashboard');

    const audit = await passkeyAudit(alice.owner.userId);
    expect(
      audit.filter((a) => a.action === 'passkey.confirm').map((a) => [a.outcome, a.detail.reason ?? null, a.org_id]),
    ).toEqual([
      ['rejected', 'other_user', alice.owner.partnerId],
      ['succeeded', null, alice.owner.partnerId],
    ]);
    expect((await passkeyAudit(mallory.owner.userId)).filter((a) => a.action !== 'passkey.register')).toEqual([]);
  });

  it('a recovery code finishes it too, for a user with passkeys only; an app code is refused in place', async () => {
    const { owner, browser } = await signedInOwner();
    const { result } = await registerPasskey(browser);
    const code = /<li>([a-z2-9]{5}(?:-[a-z2-9]{5}){3})<\/li>/.exec(result.html)?.[1] as string;
    const { browser: signingIn } = await passwordStep(owner);
    // No authenticator app: a 6-digit code is wrong, and the step stays open.
    const appCode = await signingIn.post('/sign-in/two-factor', { code: '123456', next: '/dashboard' });
    expect(appCode.status).toBe(401);
    expect(appCode.html).toContain('Confirm with your passkey');
    const done = await signingIn.post('/sign-in/two-factor', { code, next: '/dashboard' });
    expect(done.location).toBe('/dashboard');
  });

  it('counts passkey attempts against the per-account limit of the second step, audited', async () => {
    const alice = await signedInOwner();
    await registerPasskey(alice.browser);
    const mallory = await signedInOwner();
    const malloryKey = (await registerPasskey(mallory.browser)).authenticator;
    const { browser: signingIn } = await passwordStep(alice.owner);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const options = await optionsFrom(signingIn, '/sign-in/two-factor/passkey/options');
      const answer = malloryKey.answer(options, mallory.owner.userId);
      const refused = await signingIn.post('/sign-in/two-factor/passkey', { answer, next: '/dashboard' });
      statuses.push(refused.status);
      if (refused.status === 429) {
        expect(refused.html).toContain(escaped(passkeyRefusalMessages.rate_limited));
        expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const audit = await passkeyAudit(alice.owner.userId);
    expect(audit.filter((a) => a.action === 'passkey.confirm').map((a) => a.detail.reason)).toEqual([
      ...Array(5).fill('other_user'),
      'rate_limited',
    ]);
  });
});

describe('adding a passkey to a session signed in a while ago', () => {
  it('asks for the password again first', async () => {
    const { owner, browser } = await signedInOwner();
    await stack.deps
      .sql`update sessions set created_at = now() - interval '11 minutes' where user_id = ${owner.userId}`;
    expect((await browser.get('/account/passkeys')).html).toContain('name="current"');
    const without = await browser.post('/account/passkeys/options');
    expect(without.status).toBe(403);
    expect(JSON.parse(without.html)).toEqual({ error: 'The current password is not right.' });
    const wrong = await browser.post('/account/passkeys/options', { current: 'not it' });
    expect(wrong.status).toBe(403);
    const options = await browser.post('/account/passkeys/options', { current: owner.password });
    expect(options.status).toBe(200);
  });
});

describe('adding a second passkey from a session signed in a while ago', () => {
  it('needs the step-up with the factor already held, not only the password', async () => {
    const { owner, browser } = await signedInOwner();
    await registerPasskey(browser);
    await stack.deps.sql`update sessions set created_at = now() - interval '11 minutes', second_factor_at = null
      where user_id = ${owner.userId}`;
    const page = await browser.get('/account/passkeys');
    expect(page.html).toContain('href="/account/confirm?next=/account/passkeys"');
    const options = await browser.post('/account/passkeys/options', { current: owner.password });
    expect(options.status).toBe(403);
    const [row] = await stack.deps.sql`select count(*)::int as n from passkeys where user_id = ${owner.userId}`;
    expect(row?.n).toBe(1);
  });
});

describe('passkey challenges asked for by a signed-in user', () => {
  it('are limited per address like the anonymous ones (each is a row until it expires)', async () => {
    const { browser } = await signedInOwner();
    await registerPasskey(browser);
    await browser.get('/account/confirm');
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await browser.post('/account/confirm/passkey/options')).status);
    expect(statuses.slice(0, 59).every((st) => st === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('removing a passkey', () => {
  it('ends the other sessions, drops the recovery codes with the last factor, and only for its owner', async () => {
    const { owner, browser } = await signedInOwner();
    const { authenticator } = await registerPasskey(browser);
    const other = await signedInOwner();
    const [row] = await stack.deps.sql`select id from passkeys where user_id = ${owner.userId}`;
    const passkeyId = String(row?.id);

    // Removing needs a second factor within 10 minutes: the other owner has none.
    const asked = await other.browser.post(`/account/passkeys/${passkeyId}/remove`);
    expect(asked.location).toBe('/account/confirm?next=%2Faccount%2Fpasskeys');
    // With one, someone else's id still removes nothing.
    await stepUp(other.browser);
    const notTheirs = await other.browser.post(`/account/passkeys/${passkeyId}/remove`);
    expect(notTheirs.location).toBe('/account/passkeys?done=gone');
    expect(await storedPasskeys(owner.userId)).toHaveLength(1);

    const signedInElsewhere = await passkeyAlone(authenticator, owner.userId);
    expect(signedInElsewhere.result.status).toBe(303);
    const removed = await browser.post(`/account/passkeys/${passkeyId}/remove`);
    expect(removed.location).toBe('/account/passkeys?done=removed');
    expect(await storedPasskeys(owner.userId)).toEqual([]);
    expect(await sessionsOf(owner.userId)).toHaveLength(1);
    const [codes] = await stack.deps.sql`select count(*)::int as n from recovery_codes where user_id = ${owner.userId}`;
    expect(codes?.n).toBe(0);

    // No second factor left: the password alone signs in again; the passkey does not.
    expect((await passwordStep(owner)).result.location).toBe('/dashboard');
    expectRefusedPage((await passkeyAlone(authenticator, owner.userId)).result, 'unknown_passkey');

    const audit = await passkeyAudit(owner.userId);
    expect(audit.filter((a) => a.action === 'passkey.remove').map((a) => a.detail.name)).toEqual(['Work laptop']);
  });
});

describe('a step-up with a passkey', () => {
  it("re-confirms the session's second factor at /account/confirm with the user's passkey, and refuses another's", async () => {
    const { owner, browser } = await signedInOwner();
    const { authenticator } = await registerPasskey(browser);
    const other = await signedInOwner();
    const otherKey = (await registerPasskey(other.browser)).authenticator;
    const sessionId = sha256Hex(browser.cookies.get('mandate_session') ?? '');
    await stack.deps.sql`update sessions set second_factor_at = null where id = ${sessionId}`;

    const page = await browser.get('/account/confirm?next=/dashboard/staff');
    expect(page.html).toContain('Confirm with your passkey');
    expect(page.response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const first = await optionsFrom(browser, '/account/confirm/passkey/options');
    const refused = await browser.post('/account/confirm/passkey', {
      answer: otherKey.answer(first, other.owner.userId),
      next: '/dashboard/staff',
    });
    expect(refused.status).toBe(422);
    expect(refused.html).toContain(passkeyRefusalMessages.other_user.replaceAll("'", '&#39;'));
    const [still] = await stack.deps.sql`select second_factor_at from sessions where id = ${sessionId}`;
    expect(still?.second_factor_at).toBeNull();

    const second = await optionsFrom(browser, '/account/confirm/passkey/options');
    const confirmed = await browser.post('/account/confirm/passkey', {
      answer: authenticator.answer(second, owner.userId),
      next: '/dashboard/staff',
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.location).toBe('/dashboard/staff');
    const [now] = await stack.deps.sql`select second_factor_at from sessions where id = ${sessionId}`;
    expect(now?.second_factor_at).not.toBeNull();
    const audit = await passkeyAudit(owner.userId);
    expect(
      audit
        .filter((a) => a.action === 'passkey.confirm')
        .map((a) => [a.outcome, a.detail.purpose, a.detail.reason ?? null]),
    ).toEqual([
      ['rejected', 'confirm', 'other_user'],
      ['succeeded', 'confirm', null],
    ]);
    // The session's step-up is recorded as a code's is, saying it was a passkey; only the right answer makes one.
    const stepUps = await stack.deps.sql`
      select detail from audit_events where actor_user_id = ${owner.userId} and action = 'session.step_up'`;
    expect(stepUps.map((a) => a.detail)).toEqual([{ with: 'passkey' }]);
    // Without a passkey there is nothing to offer.
    const plain = (await signedInOwner()).browser;
    await plain.get('/account/confirm');
    expect((await plain.post('/account/confirm/passkey/options')).status).toBe(409);
  });
});

describe('the two-factor page of a user with passkeys', () => {
  it('does not say the password alone signs in', async () => {
    const { browser } = await signedInOwner();
    await registerPasskey(browser);
    const page = await browser.get('/account/two-factor');
    expect(page.html).not.toContain('your password alone signs you in');
    expect(page.html).toContain('Your passkeys are your second factor');
  });
});

describe('the scripts', () => {
  it('are served from here with a long cache under hashed paths, and run only on the passkey pages', async () => {
    for (const path of passkeyScriptPaths) {
      expect(path).toMatch(/^\/assets\/[a-z-]+-[0-9a-f]{12}\.js$/);
      const response = await stack.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await response.text()).length).toBeGreaterThan(500);
    }
    const { browser } = await signedInOwner();
    const signIn = await newBrowser().get('/sign-in');
    expect(signIn.response.headers.get('content-security-policy')).toContain("script-src 'self'");
    for (const path of passkeyScriptPaths) expect(signIn.html).toContain(`<script src="${path}" defer=""></script>`);
    const twoFactor = await browser.get('/account/two-factor');
    expect(twoFactor.response.headers.get('content-security-policy')).not.toContain('script-src');
    expect(twoFactor.html).not.toContain('<script');
    expect(twoFactor.html).toContain('href="/account/passkeys"');
  });
});
