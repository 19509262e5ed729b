import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaffMember } from '../../helpers/dashboard.ts';
import { readProblem } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Staff access as role sets: what a staff member may do in a client is what the client
 * granted ∩ the staff member's roles; `none | limited | full` stay accepted as presets.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(async () => {
  await stack.close();
});

describe('staff with roles of the catalogue', () => {
  it('acts only where the client granted it and the staff member holds it', async () => {
    const fixture = await createOfferFixture(stack, {
      offer: { roles: [{ role: 'user_admin' }, { role: 'password_admin' }], durationDays: 30 },
    });
    const owner = fixture.partner.token;
    const { delegationId } = await activateDelegation(stack, fixture);

    // Invited with the role, accepted through the emailed link.
    const staff = await createStaffMember(stack, owner, ['user_admin']);
    const [access] = await stack.deps.sql`select roles from staff_access where user_id = ${staff.userId}`;
    expect(access?.roles).toEqual(['user_admin']);

    const provision = await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: staff.token,
      json: { displayName: 'New', userName: `n${Date.now()}` },
    });
    expect(provision.status).toBe(202);
    // Domains: neither the client granted domain_admin nor does the staff member hold it.
    const domains = await stack.request(`/v1/delegations/${delegationId}/domains`, { token: staff.token });
    expect(domains.status).toBe(403);

    // Changed to domain_admin: the client never granted it, so nothing domain-related opens.
    const changed = await stack.request(`/v1/staff/${staff.userId}/access`, {
      method: 'PUT',
      token: owner,
      json: { roles: ['domain_admin'] },
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ roles: ['domain_admin'] });
    expect((await stack.request(`/v1/delegations/${delegationId}/domains`, { token: staff.token })).status).toBe(403);
    const again = await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: staff.token,
      json: { displayName: 'New', userName: `m${Date.now()}` },
    });
    expect(again.status).toBe(403);

    const list = (await (await stack.request('/v1/staff', { token: owner })).json()) as {
      items: { userId: string; roles: string[]; access?: string; isOwner: boolean }[];
    };
    expect(list.items.find((s) => s.isOwner)).toMatchObject({ roles: ['global_admin'], access: 'full' });
    expect(list.items.find((s) => s.userId === staff.userId)).toEqual(
      expect.objectContaining({ roles: ['domain_admin'] }),
    );
    expect(list.items.find((s) => s.userId === staff.userId)?.access).toBeUndefined();
  });

  it('takes a preset or roles, not both; unknown roles and repeats are refused, and nothing changes', async () => {
    const fixture = await createOfferFixture(stack);
    const owner = fixture.partner.token;
    const email = `x-${Date.now()}@partner.example`;
    for (const [json, path] of [
      [{ email, displayName: 'X', access: 'full', roles: ['user_admin'] }, 'roles'],
      [{ email, displayName: 'X' }, 'roles'],
      [{ email, displayName: 'X', roles: ['device_admin'] }, 'roles/0'],
      [{ email, displayName: 'X', roles: ['user_admin', 'user_admin'] }, 'roles'],
    ] as const) {
      const response = await stack.request('/v1/staff', { method: 'POST', token: owner, json });
      expect(response.status).toBe(422);
      expect((await readProblem(response)).errors?.[0]?.path).toBe(path);
    }
    const [row] = await stack.deps.sql`
      select (select count(*) from users where lower(email) = lower(${email}))
        + (select count(*) from staff_invitations where lower(email) = lower(${email}))::int as n`;
    expect(Number(row?.n)).toBe(0);
  });
});
