import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitRules } from '../../../lib/rate-limits.ts';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import type { CreatedPartner } from '../../../services/accounts/partners.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { acceptInvitationAs, createOwnToken, signedInClient, stepUp } from '../../helpers/dashboard.ts';
import { createTestPartner, createTestStaff, readProblem, rowCounts, waitFor } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Adding staff by invitation (issue 14): every address not already on the partner's staff
 * gets the same 202; what differs is the email the address receives — read here from
 * what the SMTP server got, not from Mandate's rows.
 */
let stack: TestStack;
let sink: SmtpSink;
const password = 'a password of my own choosing';

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

const tag = () => randomBytes(4).toString('hex');
const freeAddress = () => `new-${tag()}@partner.example`;

function invite(owner: CreatedPartner, email: string, body: Record<string, unknown> = { access: 'limited' }) {
  return stack.request('/v1/staff', {
    method: 'POST',
    token: owner.token,
    json: { email, displayName: 'Pat', ...body },
  });
}

async function mailsTo(address: string, count = 1): Promise<ReceivedMail[]> {
  const pick = () => sink.messages.filter((m) => m.to.includes(address.toLowerCase()));
  await waitFor(async () => pick().length >= count);
  return pick();
}

/** The invitation link (a path) in a mail as received. */
function linkIn(mail: ReceivedMail | undefined): string {
  const url = /http:\/\/mandate\.test(\/invitations\/[A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1];
  if (!url) throw new Error(`no invitation link in ${mail?.text}`);
  return url;
}

async function invitedLink(owner: CreatedPartner, email: string, body?: Record<string, unknown>) {
  const before = sink.messages.filter((m) => m.to.includes(email.toLowerCase())).length;
  expect((await invite(owner, email, body)).status).toBe(202);
  return linkIn((await mailsTo(email, before + 1)).at(-1));
}

const auditActions = async (partnerId: string) =>
  (
    await stack.deps
      .sql`select action from audit_events where partner_id = ${partnerId} and action like 'staff.%' order by id`
  ).map((r) => r.action as string);

describe('POST /v1/staff invites', () => {
  it('answers a free address, a client admin and another partner’s owner alike; each is told by email', async () => {
    const name = `Acme ${tag()}`;
    const owner = await createTestPartner(stack, name);
    const other = await createTestPartner(stack);
    const admin = await createClientAdmin(stack);
    const free = freeAddress();
    const answers = [];
    for (const email of [free, admin.email, other.email]) {
      const response = await invite(owner, email);
      answers.push({ status: response.status, body: (await response.text()).replace(email, 'ADDRESS') });
    }
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers[0]?.body).not.toMatch(/exist|account|already|password|mdt_/i);

    const [invitation] = await mailsTo(free);
    expect(invitation?.subject).toBe(`${name} invites you to Mandate as staff`);
    expect(invitation?.text).toContain('Limited administration');
    expect(linkIn(invitation)).toMatch(/^\/invitations\//);
    for (const taken of [admin.email, other.email]) {
      const [notice] = await mailsTo(taken);
      expect(notice?.subject).toBe(`${name} tried to add you to their staff in Mandate`);
      expect(notice?.text).toContain('already has a Mandate account');
      expect(notice?.text).toContain('another address');
      expect(notice?.text).not.toContain('/invitations/');
    }
    // One email per invitation, and none to anyone else.
    await new Promise((r) => setTimeout(r, 300));
    for (const address of [free, admin.email, other.email]) expect(await mailsTo(address)).toHaveLength(1);

    // The owner's list shows the three alike: it does not tell which can join either.
    const list = (await (await stack.request('/v1/staff/invitations', { token: owner.token })).json()) as {
      items: { email: string; access: string }[];
    };
    expect(list.items.map((i) => [i.email, i.access])).toEqual([
      [free, 'limited'],
      [admin.email, 'limited'],
      [other.email, 'limited'],
    ]);
    expect(await auditActions(owner.partnerId)).toEqual(['staff.invite', 'staff.invite', 'staff.invite']);
  });

  it('names only the partner’s own staff (409), and refuses bad input; both change nothing', async () => {
    const owner = await createTestPartner(stack);
    const before = await rowCounts(stack);
    const mine = await invite(owner, owner.email.toUpperCase());
    expect(mine.status).toBe(409);
    expect((await readProblem(mine)).code).toBe('CONFLICT');
    const invalid = await invite(owner, freeAddress(), { access: 'admin' });
    expect((await readProblem(invalid)).code).toBe('VALIDATION_FAILED');
    const both = await invite(owner, freeAddress(), { access: 'full', roles: ['global_admin'] });
    expect((await readProblem(both)).code).toBe('VALIDATION_FAILED');
    expect(await rowCounts(stack)).toEqual(before);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages.filter((m) => m.to.includes(owner.email.toLowerCase()))).toEqual([]);
  });

  it('is for owners only', async () => {
    const owner = await createTestPartner(stack);
    const staff = await createTestStaff(stack, owner.partnerId, ['global_admin']);
    const before = await rowCounts(stack);
    expect(
      (
        await stack.request('/v1/staff', {
          method: 'POST',
          token: staff,
          json: { email: freeAddress(), displayName: 'X', access: 'full' },
        })
      ).status,
    ).toBe(403);
    expect((await stack.request('/v1/staff/invitations', { token: staff })).status).toBe(403);
    expect(await rowCounts(stack)).toEqual(before);
  });

  it('limits the invitations a partner sends: past it, every address gets the same 429 and nothing is sent', async () => {
    const owner = await createTestPartner(stack);
    const admin = await createClientAdmin(stack);
    const { points } = rateLimitRules.staffInvitationsPerPartner;
    for (let i = 0; i < points; i++) await stack.deps.rateLimits.consume('staffInvitationsPerPartner', owner.partnerId);
    const before = await rowCounts(stack);
    const answers = [];
    for (const email of [freeAddress(), admin.email]) {
      const response = await invite(owner, email);
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      answers.push((await readProblem(response)).code);
    }
    expect(answers).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(await rowCounts(stack)).toEqual(before);
    // Another partner is not held up.
    expect((await invite(await createTestPartner(stack), freeAddress())).status).toBe(202);
  });

  it('a repeated Idempotency-Key replays the 202 and sends nothing more', async () => {
    const owner = await createTestPartner(stack);
    const email = freeAddress();
    const send = () =>
      stack.request('/v1/staff', {
        method: 'POST',
        token: owner.token,
        headers: { 'idempotency-key': `invite-${email}` },
        json: { email, displayName: 'Pat', access: 'none' },
      });
    const first = await send();
    const again = await send();
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    await mailsTo(email);
    await new Promise((r) => setTimeout(r, 300));
    expect(await mailsTo(email)).toHaveLength(1);
    expect(await auditActions(owner.partnerId)).toEqual(['staff.invite']);
  });

  it('inviting an address again replaces its pending invitation: the old link dies', async () => {
    const owner = await createTestPartner(stack);
    const email = freeAddress();
    const first = await invitedLink(owner, email, { access: 'none' });
    const second = await invitedLink(owner, email, { access: 'full' });
    expect(second).not.toBe(first);
    const list = (await (await stack.request('/v1/staff/invitations', { token: owner.token })).json()) as {
      items: { email: string; access: string }[];
    };
    expect(list.items.map((i) => [i.email, i.access])).toEqual([[email, 'full']]);
    expect((await new PageClient(stack).get(first)).status).toBe(410);
    await acceptInvitationAs(stack, second, password);
    const [access] = await stack.deps.sql`
      select s.roles from staff_access s join users u on u.id = s.user_id where lower(u.email) = ${email}`;
    expect(access?.roles).toEqual(['global_admin']);
  });
});

describe('accepting an invitation', () => {
  it('shows the partner and the access, then creates the user with the invited roles and signs them in', async () => {
    const name = `Globex ${tag()}`;
    const owner = await createTestPartner(stack, name);
    const email = freeAddress();
    const link = await invitedLink(owner, email, { roles: ['directory_reader', 'domain_admin'] });
    // The key of the link is in the mail only: the outbox keeps a placeholder, the invitation its SHA-256.
    const key = link.split('/').at(-1) as string;
    expect(JSON.stringify(await stack.deps.sql`select * from emails where lower(to_email) = ${email}`)).not.toContain(
      key,
    );
    expect(JSON.stringify(await stack.deps.sql`select * from staff_invitations`)).not.toContain(key);
    const browser = new PageClient(stack);
    const page = await browser.get(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`${name} invites you to Mandate as staff`);
    expect(page.html).toContain(email);
    expect(page.html).toContain('Directory reader');
    expect(page.html).toContain('Domain administrator');

    // The password rules of the rest of the site; nothing is created by a refused one.
    const before = await rowCounts(stack);
    const short = await browser.post(link, { password: 'short', repeat: 'short' });
    expect(short.status).toBe(422);
    expect(short.html).toContain('at least 12 characters');
    const differ = await browser.post(link, { password, repeat: `${password}!` });
    expect(differ.status).toBe(422);
    const noCsrf = await browser.post(link, { password, repeat: password }, null);
    expect(noCsrf.status).toBe(403);
    expect(await rowCounts(stack)).toEqual(before);

    const accepted = await browser.post(link, { password, repeat: password });
    expect(accepted.status).toBe(303);
    expect(accepted.location).toBe('/dashboard');
    expect((await browser.get('/dashboard')).status).toBe(200);

    const [user] = await stack.deps.sql`
      select u.id, u.org_id, u.display_name, u.must_change_password, s.roles, s.is_owner
      from users u join staff_access s on s.user_id = u.id where lower(u.email) = ${email}`;
    expect(user).toMatchObject({
      org_id: owner.partnerId,
      display_name: 'Pat',
      must_change_password: false,
      roles: ['directory_reader', 'domain_admin'],
      is_owner: false,
    });
    const [session] = await stack.deps.sql`select sign_in_method from sessions where user_id = ${user?.id}`;
    expect(session?.sign_in_method).toBe('new_account');
    // The chosen password signs in.
    const again = new PageClient(stack);
    await again.get('/sign-in');
    expect((await again.post('/sign-in', { email, password, next: '/dashboard' })).status).toBe(303);

    expect(await auditActions(owner.partnerId)).toEqual(['staff.invite', 'staff.invitation.accept']);
    const list = (await (await stack.request('/v1/staff/invitations', { token: owner.token })).json()) as {
      items: unknown[];
    };
    expect(list.items).toEqual([]);
    const staff = (await (await stack.request('/v1/staff', { token: owner.token })).json()) as {
      items: { email: string }[];
    };
    expect(staff.items.map((s) => s.email)).toContain(email);
  });

  it('refuses a used, expired, withdrawn or unknown link with a clear page, changing nothing', async () => {
    const owner = await createTestPartner(stack);
    const used = await invitedLink(owner, freeAddress());
    await acceptInvitationAs(stack, used, password);

    const expiredAddress = freeAddress();
    const expired = await invitedLink(owner, expiredAddress);
    await stack.deps.sql`update staff_invitations set expires_at = now() - interval '1 minute'
      where lower(email) = ${expiredAddress}`;

    const withdrawn = await invitedLink(owner, freeAddress());
    const [pending] = (
      (await (await stack.request('/v1/staff/invitations', { token: owner.token })).json()) as {
        items: { id: string }[];
      }
    ).items;
    const revoked = await stack.request(`/v1/staff/invitations/${pending?.id}`, {
      method: 'DELETE',
      token: owner.token,
    });
    expect(revoked.status).toBe(204);

    const unknown = `/invitations/${randomBytes(32).toString('base64url')}`;
    const malformed = '/invitations/not-a-token';
    const before = await rowCounts(stack);
    for (const link of [used, expired, withdrawn, unknown, malformed]) {
      const browser = new PageClient(stack);
      const page = await browser.get(link);
      expect(page.status, link).toBe(410);
      expect(page.html).toContain('This invitation can no longer be used');
      await browser.get('/sign-in');
      const post = await browser.post(link, { password, repeat: password });
      expect(post.status, link).toBe(410);
      expect(post.response.headers.getSetCookie().some((c) => c.startsWith('mandate_session='))).toBe(false);
    }
    expect(await rowCounts(stack)).toEqual(before);
  });

  it('refuses an address that got an account after the invitation, creating nothing', async () => {
    const owner = await createTestPartner(stack);
    const email = freeAddress();
    const link = await invitedLink(owner, email);
    // Meanwhile the address became a client's admin (another organization).
    await createClientOrganization(stack.deps.db, {
      orgName: 'Elsewhere',
      adminName: 'Other',
      email: email.toUpperCase(),
      password: 'correct horse battery staple',
    });
    const before = await rowCounts(stack);
    const browser = new PageClient(stack);
    await browser.get(link);
    const refused = await browser.post(link, { password, repeat: password });
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('one address belongs to one organization');
    expect(await rowCounts(stack)).toEqual(before);
    const [invitation] = await stack.deps.sql`select accepted_at from staff_invitations where lower(email) = ${email}`;
    expect(invitation?.accepted_at).toBeNull();
  });

  it('refuses an invitation whose owner is no longer an owner, creating nothing', async () => {
    const owner = await createTestPartner(stack);
    const email = freeAddress();
    const link = await invitedLink(owner, email);
    // The owner who sent it was made an ordinary staff member since.
    await stack.deps.sql`update staff_access set is_owner = false where user_id = ${owner.userId}`;
    const browser = new PageClient(stack);
    await browser.get(link);
    const before = await rowCounts(stack);
    const refused = await browser.post(link, { password, repeat: password });
    expect(refused.status).toBe(410);
    expect(await rowCounts(stack)).toEqual(before);
  });
});

describe('owners manage invitations', () => {
  it('DELETE withdraws a pending invitation, audited; other partners and repeats get 404', async () => {
    const owner = await createTestPartner(stack);
    const other = await createTestPartner(stack);
    const link = await invitedLink(owner, freeAddress());
    const [pending] = (
      (await (await stack.request('/v1/staff/invitations', { token: owner.token })).json()) as {
        items: { id: string }[];
      }
    ).items;
    const path = `/v1/staff/invitations/${pending?.id}`;
    expect((await stack.request(path, { method: 'DELETE', token: other.token })).status).toBe(404);
    const staff = await createTestStaff(stack, owner.partnerId, ['global_admin']);
    expect((await stack.request(path, { method: 'DELETE', token: staff })).status).toBe(403);
    expect((await new PageClient(stack).get(link)).status).toBe(200);

    expect((await stack.request(path, { method: 'DELETE', token: owner.token })).status).toBe(204);
    expect((await new PageClient(stack).get(link)).status).toBe(410);
    const again = await stack.request(path, { method: 'DELETE', token: owner.token });
    expect((await readProblem(again)).code).toBe('NOT_FOUND');
    expect((await stack.request('/v1/staff/invitations/inv_x', { method: 'DELETE', token: owner.token })).status).toBe(
      404,
    );
    expect(await auditActions(owner.partnerId)).toEqual(['staff.invite', 'staff.invitation.revoke']);
  });

  it('the staff page invites (same answer), lists pending invitations and revokes them', async () => {
    const owner = await createTestPartner(stack);
    const [ownerUser] = await stack.deps.sql`select id from users where lower(email) = ${owner.email.toLowerCase()}`;
    const browser = await signedInClient(stack, ownerUser?.id as string);
    await stepUp(browser); // as if just confirmed with a second factor
    const admin = await createClientAdmin(stack);
    const free = freeAddress();
    const pages = [];
    for (const email of [free, admin.email]) {
      const page = await browser.post('/dashboard/staff', { email, displayName: 'Pat', access: 'full' });
      expect(page.status).toBe(202);
      pages.push(page.html);
    }
    expect(pages[1]).toContain(free);
    expect(pages[1]).toContain(admin.email);
    const notices = pages.map((html, i) =>
      /<p class="ok">([^<]*)<\/p>/.exec(html)?.[1]?.replace(i === 0 ? free : admin.email, 'ADDRESS'),
    );
    expect(notices[0]).toBeTruthy();
    expect(notices[1]).toBe(notices[0]);
    expect(pages[1]).not.toContain('mdt_');
    const list = await browser.get('/dashboard/staff');
    expect(list.html).toContain('Pending invitations');
    const ids = [...list.html.matchAll(/\/dashboard\/staff\/invitations\/(inv_[0-9a-f]{32})\/revoke/g)].map(
      (m) => m[1],
    );
    expect(ids).toHaveLength(2);
    const revoked = await browser.post(`/dashboard/staff/invitations/${ids[0]}/revoke`);
    expect(revoked.status).toBe(303);
    expect((await browser.get(revoked.location as string)).html).toContain('Invitation withdrawn');
    const after = await stack.request('/v1/staff/invitations', { token: owner.token });
    expect(((await after.json()) as { items: unknown[] }).items).toHaveLength(1);
  });
});

describe('own API tokens', () => {
  it('a staff member lists, creates and revokes their own tokens; a created one opens the API', async () => {
    const owner = await createTestPartner(stack);
    const link = await invitedLink(owner, freeAddress(), { access: 'full' });
    const browser = await acceptInvitationAs(stack, link, password);
    const empty = await browser.get('/dashboard/tokens');
    expect(empty.status).toBe(200);
    expect(empty.html).toContain('You have no API token');

    const token = await createOwnToken(browser, 'CI pipeline');
    expect((await stack.request('/v1/delegations', { token })).status).toBe(200);
    const listed = await browser.get('/dashboard/tokens');
    expect(listed.html).toContain('CI pipeline');
    expect(listed.html).not.toContain(token); // shown once
    const [stored] = await stack.deps.sql`select id, token_hash from api_tokens where label = 'CI pipeline'`;
    expect(stored?.token_hash).not.toBe(token);

    const noLabel = await browser.post('/dashboard/tokens', { label: '  ' });
    expect(noLabel.status).toBe(422);

    const revoked = await browser.post(`/dashboard/tokens/${stored?.id}/revoke`);
    expect(revoked.status).toBe(303);
    expect((await stack.request('/v1/delegations', { token })).status).toBe(401);
    expect((await browser.get('/dashboard/tokens')).html).not.toContain('CI pipeline');
    const [user] = await stack.deps.sql`select user_id from api_tokens where id = ${stored?.id}`;
    const audit = await stack.deps.sql`
      select action, target_id from audit_events where actor_user_id = ${user?.user_id} and action like 'api_token.%' order by id`;
    expect(audit.map((a) => [a.action, a.target_id])).toEqual([
      ['api_token.create', stored?.id],
      ['api_token.revoke', stored?.id],
    ]);
  });

  it("the form offers the holder's scopes and an expiry; the list shows scopes, expiry and last use", async () => {
    const owner = await createTestPartner(stack);
    const browser = await acceptInvitationAs(
      stack,
      await invitedLink(owner, freeAddress(), { access: 'none' }),
      password,
    );
    await stepUp(browser);
    const form = await browser.get('/dashboard/tokens');
    // Staff without access may read, not send offers, nor manage staff.
    expect(form.html).toContain('name="scope:read"');
    expect(form.html).not.toContain('name="scope:offers:write"');
    expect(form.html).not.toContain('name="scope:staff:write"');
    expect(form.html).toContain('value="90"');

    for (const expiresInDays of ['0', '366']) {
      const refused = await browser.post('/dashboard/tokens', { label: 'x', expiresInDays, 'scope:read': 'on' });
      expect(refused.status).toBe(422);
    }
    expect((await browser.post('/dashboard/tokens', { label: 'x', expiresInDays: '30' })).status).toBe(422);
    // A scope beyond the holder's access, sent by hand: refused, nothing made.
    const beyond = await browser.post('/dashboard/tokens', { label: 'x', 'scope:offers:write': 'on' });
    expect(beyond.status).toBe(403);
    expect((await stack.deps.sql`select id from api_tokens where label = 'x'`).length).toBe(0);

    const created = await browser.post('/dashboard/tokens', {
      label: 'Monthly',
      expiresInDays: '30',
      'scope:read': 'on',
    });
    expect(created.status).toBe(201);
    const token = /mdt_[A-Za-z0-9_-]{43}/.exec(created.html)?.[0] ?? '';
    const [row] = await stack.deps
      .sql`select scopes, expires_at - created_at as lifetime from api_tokens where label = 'Monthly'`;
    expect(row).toMatchObject({ scopes: ['read'], lifetime: '30 days' });
    // (Staff without access read their own tokens; partner data is refused them.)
    expect((await stack.request('/v1/tokens', { token })).status).toBe(200);
    expect((await stack.request('/v1/delegations', { token })).status).toBe(403);
    await waitFor(
      async () =>
        (await stack.deps.sql`select 1 from api_tokens where label = 'Monthly' and last_used_at is not null`).length >
        0,
    );
    const listed = await browser.get('/dashboard/tokens');
    expect(listed.html).toContain('<th scope="col">Expires</th>');
    expect(listed.html).not.toMatch(/Monthly[\s\S]*never/);
  });

  it("an owner sees the staff's tokens on the page (never the secret) and revokes one", async () => {
    const owner = await createTestPartner(stack);
    const staff = await acceptInvitationAs(
      stack,
      await invitedLink(owner, freeAddress(), { access: 'full' }),
      password,
    );
    const theirs = await createOwnToken(staff, 'staff integration');
    const ownerPage = await signedInClient(stack, owner.userId);
    const page = await ownerPage.get('/dashboard/tokens');
    expect(page.html).toContain('API tokens of your staff');
    expect(page.html).toContain('staff integration');
    expect(page.html).not.toContain(theirs);
    const [row] = await stack.deps.sql`select id from api_tokens where label = 'staff integration'`;
    expect((await ownerPage.post(`/dashboard/tokens/${row?.id}/revoke`)).status).toBe(303);
    expect((await stack.request('/v1/delegations', { token: theirs })).status).toBe(401);
  });

  it("another staff member's token cannot be revoked by its id", async () => {
    const owner = await createTestPartner(stack);
    const first = await acceptInvitationAs(
      stack,
      await invitedLink(owner, freeAddress(), { access: 'full' }),
      password,
    );
    const second = await acceptInvitationAs(
      stack,
      await invitedLink(owner, freeAddress(), { access: 'full' }),
      password,
    );
    const theirs = await createOwnToken(first, 'theirs');
    const [row] = await stack.deps.sql`select id from api_tokens where label = 'theirs'`;
    const before = await rowCounts(stack);
    const attempt = await second.post(`/dashboard/tokens/${row?.id}/revoke`);
    expect(attempt.status).toBe(404);
    expect((await stack.request('/v1/delegations', { token: theirs })).status).toBe(200);
    // Nor the owner's, from the owner's own page.
    expect((await second.get('/dashboard/tokens')).html).not.toContain('theirs');
    expect(await rowCounts(stack)).toEqual(before);
  });
});
