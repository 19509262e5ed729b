import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../core/ids.ts';
import { refusalMessages } from '../../../core/second-factor.ts';
import { tokenScopes } from '../../../core/token-scopes.ts';
import { hashPassword, newApiToken, sha256Hex } from '../../../lib/secrets.ts';
import { createPartner } from '../../../services/accounts/partners.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { enrolTotp, totpCode, wrongCode } from '../../helpers/two-factor.ts';

/** Every scope: the tokens the tests insert are ordinary tokens of their holder. */
const allScopes = [...tokenScopes];

/**
 * The two-factor policy (an organization requires a second factor of its people; new
 * partners start with it on) and the step-up (sensitive changes need a second factor
 * passed in the last 10 minutes).
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const escaped = (text: string) => text.replaceAll("'", '&#39;');
const tag = () => Math.random().toString(36).slice(2, 10);

async function signIn(email: string, password: string, ip = '127.0.0.1') {
  const browser = new PageClient(stack, ip);
  await browser.get('/sign-in');
  const result = await browser.post('/sign-in', { email, password, next: '/dashboard' });
  return { browser, result };
}

async function auditOf(orgId: string, action: string) {
  return stack.deps.sql`
    select actor_user_id, outcome, detail from audit_events where org_id = ${orgId} and action = ${action} order by id`;
}

/** Staff members and invitations of the partner: what adding staff makes. */
async function staffCount(partnerId: string) {
  const [row] = await stack.deps.sql`select
    (select count(*) from staff_access where partner_id = ${partnerId})
    + (select count(*) from staff_invitations where partner_id = ${partnerId}) as n`;
  return Number(row?.n);
}

describe('a new partner requires two-factor sign-in', () => {
  it('sends its owner to set it up before anything else, refuses the owner’s token until then, and lets both through after', async () => {
    const owner = await createPartner(stack.deps.db, {
      name: `Policy ${tag()}`,
      ownerEmail: `owner-${tag()}@p.example`,
    });
    expect(owner.requireTwoFactor).toBe(true);

    const { browser, result } = await signIn(owner.email, owner.password);
    expect(result.location).toBe('/dashboard'); // the password alone signs in…
    for (const path of ['/dashboard', '/dashboard/staff', '/account/sessions', '/org/delegations', '/account']) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(303); // …to nothing but the set-up
      expect(page.response.headers.get('location')).toBe(
        `/account/two-factor?required=1&next=${encodeURIComponent(path)}`,
      );
    }
    const setUp = await browser.get('/account/two-factor');
    expect(setUp.status).toBe(200);
    expect(setUp.html).toContain('data-testid="two-factor-required"');

    const refused = await stack.request('/v1/offers', { token: owner.token });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { code: string }).code).toBe('SECOND_FACTOR_REQUIRED');

    await enrolTotp(browser);
    expect((await browser.get('/dashboard')).status).toBe(200);
    expect((await stack.request('/v1/offers', { token: owner.token })).status).toBe(200);
  });

  it('applies to staff already signed in the moment an owner turns it on, and is audited', async () => {
    const owner = await createTestPartner(stack);
    const { browser: owners } = await signIn(owner.email, owner.password);
    await enrolTotp(owners); // the step-up needs a second factor; enrolling just passed one
    const staffToken = await createStaffToken(owner.partnerId);
    const { browser: staff } = await signedInStaff(staffToken.userId);
    expect((await staff.get('/dashboard')).status).toBe(200);

    await owners.get('/dashboard/security');
    const saved = await owners.post('/dashboard/security', { required: 'on' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/dashboard/security?notice=policy-saved');

    const next = await staff.get('/dashboard');
    expect(next.status).toBe(303);
    expect(next.response.headers.get('location')).toMatch(/^\/account\/two-factor\?required=1/);
    expect((await stack.request('/v1/offers', { token: staffToken.token })).status).toBe(403);
    const page = await owners.get('/dashboard/security');
    const without = /data-testid="without-second-factor">(.*?)<\/ul>/s.exec(page.html)?.[1] ?? '';
    expect(without).toContain(staffToken.email); // listed among those without a second factor
    expect(without).not.toContain(owner.email);
    expect((await auditOf(owner.partnerId, 'organization.two_factor_policy')).map((a) => a.detail)).toEqual([
      { required: true },
    ]);

    const junk = await owners.post('/dashboard/security', { required: 'maybe' });
    expect(junk.status).toBe(422);
    const [org] = await stack.deps.sql`select require_two_factor from organizations where id = ${owner.partnerId}`;
    expect(org?.require_two_factor).toBe(true);
  });

  it('a client organization can require it of its own admins; no longer requiring it needs the step-up', async () => {
    const admin = await createClientAdmin(stack);
    const { browser } = await signIn(admin.email, 'correct horse battery staple');
    // Requiring it is a safeguard added: no step-up. It applies to the admin at once.
    await browser.get('/org/security');
    expect((await browser.post('/org/security', { required: 'on' })).location).toBe('/org/security?saved=1');
    expect((await browser.get('/org/security')).response.headers.get('location')).toMatch(
      /^\/account\/two-factor\?required=1/,
    );
    await enrolTotp(browser);
    expect((await browser.get('/org/security')).html).toContain('Required: all administrators');

    // Turning it off is a safeguard removed: a second factor within 10 minutes first.
    await stack.deps
      .sql`update sessions set second_factor_at = now() - interval '11 minutes' where user_id = ${admin.userId}`;
    const off = await browser.post('/org/security', { required: 'off' });
    expect(off.location).toBe('/account/confirm?next=%2Forg%2Fsecurity');
    const [org] = await stack.deps.sql`select require_two_factor from organizations where id = ${admin.orgId}`;
    expect(org?.require_two_factor).toBe(true);
    expect((await auditOf(admin.orgId, 'organization.two_factor_policy')).map((a) => a.actor_user_id)).toEqual([
      admin.userId,
    ]);
  });

  it('single sign-on settings: saving and turning on need the step-up, turning off does not', async () => {
    const owner = await createTestPartner(stack);
    const { browser } = await signIn(owner.email, owner.password);
    await browser.get('/dashboard/single-sign-on');
    const fields = { issuer: 'https://idp.example.com', clientId: 'x', clientSecret: 'y', emailDomain: 'p.example' };
    expect((await browser.post('/dashboard/single-sign-on', fields)).location).toBe(
      '/account/confirm?next=%2Fdashboard%2Fsingle-sign-on',
    );
    expect((await browser.post('/dashboard/single-sign-on/enabled', { enabled: 'on' })).location).toBe(
      '/account/confirm?next=%2Fdashboard%2Fsingle-sign-on',
    );
    const off = await browser.post('/dashboard/single-sign-on/enabled', { enabled: 'off' });
    expect(off.location).not.toMatch(/^\/account\/confirm/);
  });

  it('the step-up page says to set up a second factor first when there is none', async () => {
    const owner = await createTestPartner(stack);
    const { browser } = await signIn(owner.email, owner.password);
    await browser.get('/dashboard/staff');
    const asked = await browser.post('/dashboard/staff', {
      displayName: 'X',
      email: `x-${tag()}@p.example`,
      access: 'none',
    });
    expect(asked.location).toBe('/account/confirm?next=%2Fdashboard%2Fstaff');
    expect((await browser.get('/account/confirm?next=/dashboard/staff')).html).toContain('step-up-needs-factor');
  });
});

describe('a step-up before sensitive changes', () => {
  it('asks for a code again after 10 minutes; a wrong code changes nothing; a right one lets the change through', async () => {
    const owner = await createTestPartner(stack);
    const { browser } = await signIn(owner.email, owner.password);
    const { secret, step } = await enrolTotp(browser);
    // The enrolment passed a second factor 11 minutes ago, as far as the session knows.
    await stack.deps
      .sql`update sessions set second_factor_at = now() - interval '11 minutes' where user_id = ${owner.userId}`;
    const before = await staffCount(owner.partnerId);

    await browser.get('/dashboard/staff');
    const add = { displayName: 'New', email: `new-${tag()}@partner.example`, access: 'limited' };
    const asked = await browser.post('/dashboard/staff', add);
    expect(asked.status).toBe(303);
    expect(asked.location).toBe('/account/confirm?next=%2Fdashboard%2Fstaff');
    const access = await browser.post(`/dashboard/staff/${owner.userId}/access`, { access: 'none' });
    expect(access.location).toBe('/account/confirm?next=%2Fdashboard%2Fstaff');
    const token = await browser.post('/dashboard/tokens', { label: 'ci' });
    expect(token.location).toBe('/account/confirm?next=%2Fdashboard%2Ftokens');
    const [tokens] = await stack.deps.sql`select count(*)::int as n from api_tokens where user_id = ${owner.userId}`;
    expect(tokens?.n).toBe(1); // the owner's own, from the partner's creation
    expect(await staffCount(owner.partnerId)).toBe(before);

    const wrong = await browser.post('/account/confirm', { code: wrongCode(secret, step), next: '/dashboard/staff' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain(escaped(refusalMessages.wrong));
    expect((await browser.post('/dashboard/staff', add)).location).toMatch(/^\/account\/confirm/);

    const right = await browser.post('/account/confirm', {
      code: totpCode(secret, step + 1),
      next: '/dashboard/staff',
    });
    expect(right.status).toBe(303);
    expect(right.location).toBe('/dashboard/staff');
    const added = await browser.post('/dashboard/staff', add);
    expect(added.status).toBe(202);
    expect(await staffCount(owner.partnerId)).toBe(before + 1);

    const trail = await stack.deps.sql`
      select action, outcome, detail from audit_events
      where actor_user_id = ${owner.userId} and (action = 'session.step_up' or detail->>'purpose' = 'step_up') order by id`;
    expect(trail.map((a) => [a.action, a.outcome])).toEqual([
      ['two_factor.code', 'rejected'],
      ['two_factor.code', 'succeeded'],
      ['session.step_up', 'succeeded'],
    ]);
  });

  it('a sign-in with password and code counts as a fresh second factor; a password alone does not', async () => {
    const owner = await createTestPartner(stack);
    const { browser: first } = await signIn(owner.email, owner.password);
    const { secret, step } = await enrolTotp(first);
    const { browser } = await signIn(owner.email, owner.password, '10.62.0.1');
    await browser.post('/sign-in/two-factor', { code: totpCode(secret, step + 1), next: '/dashboard' });
    const [session] = await stack.deps.sql`
      select sign_in_method, second_factor_at is not null as fresh from sessions
      where user_id = ${owner.userId} and client_address = '10.62.0.1'`;
    expect(session).toEqual({ sign_in_method: 'password_totp', fresh: true });

    const staffToken = await createStaffToken(owner.partnerId);
    const { browser: staff } = await signedInStaff(staffToken.userId);
    const [plain] = await stack.deps.sql`
      select sign_in_method, second_factor_at from sessions where user_id = ${staffToken.userId}`;
    expect(plain).toEqual({ sign_in_method: 'password', second_factor_at: null });
    expect(staff.cookies.has('mandate_session')).toBe(true);
  });
});

/** A limited staff member of the partner with an API token and a known password, inserted directly. */
async function createStaffToken(partnerId: string) {
  const userId = newId('user');
  const email = `staff-${tag()}@partner.example`;
  const token = newApiToken();
  await stack.deps.sql`insert into users (id, org_id, email, display_name, password_hash)
    values (${userId}, ${partnerId}, ${email}, 'Staff', ${await hashPassword('staff password 12')})`;
  await stack.deps.sql`insert into staff_access (user_id, partner_id, roles) values (${userId}, ${partnerId}, '{}')`;
  await stack.deps.sql`insert into api_tokens (id, user_id, org_id, token_hash, label, scopes)
    values (${newId('apiToken')}, ${userId}, ${partnerId}, ${sha256Hex(token)}, 'test', ${allScopes})`;
  return { userId, email, token };
}

async function signedInStaff(userId: string) {
  const [user] = await stack.deps.sql`select email from users where id = ${userId}`;
  return signIn(user?.email as string, 'staff password 12', '10.62.1.1');
}
