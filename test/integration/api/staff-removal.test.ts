import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../core/ids.ts';
import { newApiToken, sha256Hex } from '../../../lib/secrets.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import {
  acceptInvitationAs,
  createStaffMember,
  invitationPath,
  signedInClient,
  stepUp,
} from '../../helpers/dashboard.ts';
import { createTestPartner, readProblem, rowCounts, waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** Removing a staff member (issue 15): access, sign-in and queued work end together. */
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const remove = (token: string, userId: string) => stack.request(`/v1/staff/${userId}`, { method: 'DELETE', token });

/** A sign-in attempt from a fresh browser: what the person sees, the CSRF value taken out. */
async function signInAnswer(email: string, password: string) {
  const browser = new PageClient(stack);
  await browser.get('/sign-in');
  const answer = await browser.post('/sign-in', { email, password, next: '/dashboard' });
  return {
    status: answer.status,
    location: answer.location,
    html: answer.html.replace(/name="csrf" value="[^"]*"/g, 'name="csrf"'),
    session: browser.cookies.has('mandate_session'),
  };
}

describe('removing a staff member', () => {
  it('ends access, sessions, tokens and sign-in in one go; the trail stays; queued operations are rejected', async () => {
    await stack.workers?.close();
    stack.workers = undefined;
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
    const owner = fixture.partner.token;
    const { delegationId } = await activateDelegation(stack, fixture);
    const staff = await createStaffMember(stack, owner, 'full');
    await stack.deps.sql`insert into sessions (id, user_id) values (${`s-${staff.userId}`}, ${staff.userId})`;
    // Every other way in they hold: a sign-in waiting for its code, an authenticator app,
    // recovery codes, a passkey and a single sign-on link.
    const u = staff.userId;
    await stack.deps
      .sql`insert into sign_in_challenges (id, user_id, expires_at) values (${`c-${u}`}, ${u}, now() + interval '5 minutes')`;
    await stack.deps
      .sql`insert into user_factors (id, user_id, kind, secret_sealed, confirmed_at) values (${`f-${u}`}, ${u}, 'totp', 'sealed', now())`;
    await stack.deps.sql`insert into recovery_codes (code_hash, user_id) values (${`r-${u}`}, ${u})`;
    await stack.deps
      .sql`insert into passkeys (id, user_id, credential_id, public_key, name) values (${`p-${u}`}, ${u}, ${`cred-${u}`}, 'key', 'Laptop')`;
    await stack.deps.sql`
      insert into sso_providers (id, partner_id, issuer, client_id, client_secret_sealed, email_domain, server_metadata)
      values (${`sso-${u}`}, ${fixture.partner.partnerId}, 'https://idp.example', 'client', 'sealed', ${`${u}.example`}, '{}')`;
    await stack.deps.sql`
      insert into sso_links (provider_id, issuer, subject, user_id) values (${`sso-${u}`}, 'https://idp.example', ${u}, ${u})`;

    // Queued by them while the workers are away.
    const queued = await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: staff.token,
      json: { displayName: 'Queued', userName: 'queued-by-removed' },
    });
    expect(queued.status).toBe(202);
    const { operationId } = (await queued.json()) as { operationId: string };

    const removed = await remove(owner, staff.userId);
    expect(removed.status).toBe(204);

    expect((await stack.request('/v1/offers', { token: staff.token })).status).toBe(401);
    expect(await stack.deps.sql`select 1 from sessions where user_id = ${staff.userId}`).toHaveLength(0);
    expect(
      await stack.deps.sql`select 1 from api_tokens where user_id = ${staff.userId} and revoked_at is null`,
    ).toHaveLength(0);
    expect(await stack.deps.sql`select 1 from staff_access where user_id = ${staff.userId}`).toHaveLength(0);
    for (const table of ['sign_in_challenges', 'user_factors', 'recovery_codes', 'passkeys', 'sso_links']) {
      const left = await stack.deps.sql`select 1 from ${stack.deps.sql(table)} where user_id = ${u}`;
      expect(left, table).toHaveLength(0);
    }
    const list = (await (await stack.request('/v1/staff', { token: owner })).json()) as {
      items: { userId: string }[];
    };
    expect(list.items.map((s) => s.userId)).not.toContain(staff.userId);

    // The old password answers exactly as a wrong one does.
    const old = await signInAnswer(staff.email, staff.password);
    const wrong = await signInAnswer(staff.email, 'not the password at all');
    expect(old).toEqual(wrong);
    expect(old.session).toBe(false);

    // What they did is still in the trail, under their name; the removal is in it too.
    const trail = await stack.deps.sql`
      select action, actor_user_id, target_id from audit_events where partner_id = ${fixture.partner.partnerId} order by id`;
    expect(trail.filter((a) => a.actor_user_id === staff.userId).map((a) => a.action)).toEqual(
      expect.arrayContaining(['staff.invitation.accept']),
    );
    expect(trail).toContainEqual(
      expect.objectContaining({
        action: 'staff.remove',
        actor_user_id: fixture.partner.userId,
        target_id: staff.userId,
      }),
    );
    expect(await stack.deps.sql`select 1 from users where id = ${staff.userId}`).toHaveLength(1);

    await stack.startWorkers();
    const op = await waitFor(async () => {
      const [row] = await stack.deps.sql`select state from operations where id = ${operationId}`;
      return row && ['succeeded', 'failed', 'rejected'].includes(String(row.state)) ? row : undefined;
    });
    expect(op.state).toBe('rejected');
    expect(await stack.deps.sql`select 1 from users where email like 'queued-by-removed@%'`).toHaveLength(0);
  });

  it('refuses the last owner, oneself included, and changes nothing', async () => {
    const owner = await createTestPartner(stack);
    const before = await rowCounts(stack);
    const refused = await remove(owner.token, owner.userId);
    expect(refused.status).toBe(409);
    expect((await readProblem(refused)).code).toBe('LAST_OWNER');
    expect(await rowCounts(stack)).toEqual(before);
    expect((await stack.request('/v1/staff', { token: owner.token })).status).toBe(200);
  });

  it("is for the partner's owners only: staff 403, another partner 404, nothing changed", async () => {
    const owner = await createTestPartner(stack);
    const other = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'full');
    const before = await rowCounts(stack);
    expect((await remove(staff.token, owner.userId)).status).toBe(403);
    expect((await remove(other.token, staff.userId)).status).toBe(404);
    expect((await remove(owner.token, other.userId)).status).toBe(404);
    expect((await remove(owner.token, `usr_${'0'.repeat(32)}`)).status).toBe(404);
    expect(await rowCounts(stack)).toEqual(before);
    expect((await stack.request('/v1/offers', { token: staff.token })).status).toBe(200);
  });

  it('a removed address can be invited to the same partner again, and joins as the same user', async () => {
    const owner = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'limited');
    expect((await remove(owner.token, staff.userId)).status).toBe(204);
    // A token (and a session) that slipped in at the instant of the removal: rejoining must
    // not bring them back to whoever holds the address now.
    const slipped = newApiToken();
    await stack.deps.sql`insert into api_tokens (id, user_id, org_id, token_hash, label, scopes)
      values (${newId('apiToken')}, ${staff.userId}, ${owner.partnerId}, ${sha256Hex(slipped)}, 'slipped', '{read}')`;

    const invited = await stack.request('/v1/staff', {
      method: 'POST',
      token: owner.token,
      json: { email: staff.email, displayName: 'Back Again', access: 'full' },
    });
    expect(invited.status).toBe(202);
    const password = 'a new password of my own';
    await acceptInvitationAs(stack, await invitationPath(stack, staff.email), password);

    const list = (await (await stack.request('/v1/staff', { token: owner.token })).json()) as {
      items: { userId: string; email: string; displayName: string; access?: string }[];
    };
    expect(list.items.find((s) => s.email === staff.email)).toMatchObject({
      userId: staff.userId,
      displayName: 'Back Again',
      access: 'full',
    });
    expect((await signInAnswer(staff.email, password)).session).toBe(true);
    // The tokens of before stay revoked, the one that slipped in too.
    expect((await stack.request('/v1/offers', { token: staff.token })).status).toBe(401);
    expect((await stack.request('/v1/offers', { token: slipped })).status).toBe(401);
  });
});

describe("the dashboard's Staff page", () => {
  it('has a Remove button per member, behind the step-up; the last owner is refused there too', async () => {
    const owner = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'none');
    const browser = await signedInClient(stack, owner.userId);
    const page = await browser.get('/dashboard/staff');
    expect(page.html).toContain(`/dashboard/staff/${staff.userId}/remove`);
    expect(page.html).toContain(`/dashboard/staff/${owner.userId}/remove`);

    const asked = await browser.post(`/dashboard/staff/${staff.userId}/remove`);
    expect(asked.location).toBe('/account/confirm?next=%2Fdashboard%2Fstaff');
    expect(await stack.deps.sql`select 1 from staff_access where user_id = ${staff.userId}`).toHaveLength(1);

    await stepUp(browser);
    const removed = await browser.post(`/dashboard/staff/${staff.userId}/remove`);
    expect(removed.status).toBe(303);
    const after = await browser.get(removed.location as string);
    expect(after.html).toContain('Staff member removed');
    expect(after.html).not.toContain(staff.email);
    expect((await stack.request('/v1/offers', { token: staff.token })).status).toBe(401);

    const self = await browser.post(`/dashboard/staff/${owner.userId}/remove`);
    expect(self.status).toBe(409);
    expect(await stack.deps.sql`select 1 from staff_access where user_id = ${owner.userId}`).toHaveLength(1);
  });

  it('is not for staff who are not owners', async () => {
    const owner = await createTestPartner(stack);
    const staff = await createStaffMember(stack, owner.token, 'full');
    const browser = await signedInClient(stack, staff.userId);
    await stepUp(browser);
    const refused = await browser.post(`/dashboard/staff/${owner.userId}/remove`);
    expect(refused.status).toBe(403);
    expect(await stack.deps.sql`select 1 from staff_access where user_id = ${owner.userId}`).toHaveLength(1);
  });
});
