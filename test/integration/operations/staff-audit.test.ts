import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvitationAs, createOwnToken, invitationPath } from '../../helpers/dashboard.ts';
import { createTestPartner, createTestStaff, readProblem, rowCounts } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
const PASSWORD = 'a password of my own choosing';

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

describe('staff management', () => {
  it('an owner invites staff, who join by the emailed link; the owner lists them and changes their access', async () => {
    const owner = await createTestPartner(stack);
    const invited = await stack.request('/v1/staff', {
      method: 'POST',
      token: owner.token,
      json: { email: 'tech@partner.example', displayName: 'Tech', access: 'limited' },
    });
    expect(invited.status).toBe(202);
    const sent = (await invited.json()) as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual(['email', 'message']); // no password, no token
    expect(JSON.stringify(sent)).not.toMatch(/mdt_/);
    // Nothing exists until the invitation is accepted.
    expect(await stack.deps.sql`select id from users where email = 'tech@partner.example'`).toHaveLength(0);

    const browser = await acceptInvitationAs(stack, await invitationPath(stack, 'tech@partner.example'), PASSWORD);
    const token = await createOwnToken(browser);
    // Their own token works, for what their access allows.
    expect((await stack.request('/v1/offers', { token })).status).toBe(200);
    const [user] = await stack.deps.sql`select id from users where email = 'tech@partner.example'`;
    const userId = user?.id as string;

    const list = (await (await stack.request('/v1/staff', { token: owner.token })).json()) as {
      items: { email: string; access: string; isOwner: boolean }[];
    };
    expect(list.items.map((s) => [s.email, s.access, s.isOwner])).toEqual([
      [owner.email, 'full', true],
      ['tech@partner.example', 'limited', false],
    ]);
    expect(JSON.stringify(list)).not.toContain(token);

    const changed = await stack.request(`/v1/staff/${userId}/access`, {
      method: 'PUT',
      token: owner.token,
      json: { access: 'none' },
    });
    expect(((await changed.json()) as { access: string }).access).toBe('none');
    expect((await stack.deps.sql`select roles from staff_access where user_id = ${userId}`)[0]?.roles).toEqual([]);
    const actions = await stack.deps.sql`
      select action from audit_events where partner_id = ${owner.partnerId} and action like 'staff.%' order by id`;
    expect(actions.map((a) => a.action)).toEqual(['staff.invite', 'staff.invitation.accept', 'staff.set_access']);
  });

  it('is for owners only; other partners and the partner’s own staff are refused', async () => {
    const owner = await createTestPartner(stack);
    const other = await createTestPartner(stack);
    const staff = await createTestStaff(stack, owner.partnerId, ['global_admin']);
    const before = await rowCounts(stack);
    const byStaff = await stack.request('/v1/staff', {
      method: 'POST',
      token: staff,
      json: { email: 'x@partner.example', displayName: 'X', access: 'full' },
    });
    expect(byStaff.status).toBe(403);
    expect((await stack.request('/v1/staff', { token: staff })).status).toBe(403);
    const [member] = await stack.deps
      .sql`select user_id from staff_access where partner_id = ${owner.partnerId} and not is_owner`;
    const cross = await stack.request(`/v1/staff/${member?.user_id}/access`, {
      method: 'PUT',
      token: other.token,
      json: { access: 'none' },
    });
    expect(cross.status).toBe(404);
    const taken = await stack.request('/v1/staff', {
      method: 'POST',
      token: owner.token,
      json: { email: owner.email, displayName: 'Dup', access: 'full' },
    });
    expect(taken.status).toBe(409);
    const invalid = await stack.request('/v1/staff', {
      method: 'POST',
      token: owner.token,
      json: { email: 'x@partner.example', displayName: 'X', access: 'admin' },
    });
    expect((await readProblem(invalid)).code).toBe('VALIDATION_FAILED');
    expect(await rowCounts(stack)).toEqual(before);
  });
});

describe('GET /v1/audit', () => {
  it('lists what the partner did, per client organization, for owners only', async () => {
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
    const { delegationId, admin } = await activateDelegation(stack, fixture);
    await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: fixture.partner.token,
      json: { displayName: 'Ann', userName: 'ann' },
    });
    const page = (await (
      await stack.request(`/v1/audit?clientOrgId=${admin.orgId}`, { token: fixture.partner.token })
    ).json()) as { items: { action: string; orgId: string; requestId: string | null }[] };
    expect(page.items.map((e) => e.action)).toEqual([
      'operation.provision_user',
      'delegation.activate',
      'delegation.accept',
    ]);
    expect(page.items.every((e) => e.orgId === admin.orgId)).toBe(true);
    expect(page.items[0]?.requestId).toBeTruthy();
    const staff = await createTestStaff(stack, fixture.partner.partnerId, ['global_admin']);
    expect((await stack.request('/v1/audit', { token: staff })).status).toBe(403);
    const other = await createTestPartner(stack);
    const foreign = (await (
      await stack.request(`/v1/audit?clientOrgId=${admin.orgId}`, { token: other.token })
    ).json()) as { items: unknown[] };
    expect(foreign.items).toEqual([]);
  });
});
