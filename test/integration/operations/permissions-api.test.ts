import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import { createTestStaff } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Every operation through the API for every combination of what the client granted
 * (full, limited) and the staff member's access (full, limited, none): 2xx where the
 * intersection allows it, 403 NOT_AUTHORIZED where it does not, and nothing recorded.
 */
let stack: TestStack;
type Setup = { delegationId: string; nonAdminId: string; adminId: string; tokens: Record<string, string> };
const setups: Record<string, Setup> = {};

beforeAll(async () => {
  stack = await createTestStack();
  for (const grant of ['full', 'limited'] as const) {
    const fixture = await createOfferFixture(stack, { offer: { access: grant, durationDays: 365 } });
    const { delegationId, admin } = await activateDelegation(stack, fixture);
    const member = await createClientOrganization(stack.deps.db, {
      orgName: 'ignored',
      adminName: 'Member',
      email: `member-${grant}-${delegationId.slice(-6)}@client.example`,
      password: 'correct horse battery staple',
    });
    // Move the member into the admin's organization as a non-admin user.
    await stack.deps.sql`update users set org_id = ${admin.orgId}, is_global_admin = false where id = ${member.userId}`;
    setups[grant] = {
      delegationId,
      nonAdminId: member.userId,
      adminId: admin.userId,
      tokens: {
        full: await createTestStaff(stack, fixture.partner.partnerId, ['global_admin']),
        limited: await createTestStaff(stack, fixture.partner.partnerId, ['password_admin']),
        none: await createTestStaff(stack, fixture.partner.partnerId, []),
      },
    };
  }
});
afterAll(() => stack.close());

const requests: Record<string, (s: Setup) => { method: string; path: string; json?: unknown }> = {
  'list users': (s) => ({ method: 'GET', path: `/v1/delegations/${s.delegationId}/users` }),
  'provision a user': (s) => ({
    method: 'POST',
    path: `/v1/delegations/${s.delegationId}/users`,
    json: { displayName: 'N', userName: `n${Math.random().toString(36).slice(2, 8)}` },
  }),
  'reset a non-admin': (s) => ({
    method: 'POST',
    path: `/v1/delegations/${s.delegationId}/users/${s.nonAdminId}/password-reset`,
  }),
  'reset a global admin': (s) => ({
    method: 'POST',
    path: `/v1/delegations/${s.delegationId}/users/${s.adminId}/password-reset`,
  }),
  'list domains': (s) => ({ method: 'GET', path: `/v1/delegations/${s.delegationId}/domains` }),
  'add a domain': (s) => ({
    method: 'POST',
    path: `/v1/delegations/${s.delegationId}/domains`,
    json: { name: `d${Math.random().toString(36).slice(2, 8)}.example.com` },
  }),
};

/** grant → staff → which requests succeed (everything else is 403). */
const allowed: Record<string, Record<string, string[]>> = {
  full: {
    full: Object.keys(requests),
    limited: ['list users', 'reset a non-admin'],
    none: [],
  },
  limited: {
    full: ['list users', 'reset a non-admin'],
    limited: ['list users', 'reset a non-admin'],
    none: [],
  },
};

const cases = Object.entries(allowed).flatMap(([grant, byStaff]) =>
  Object.entries(byStaff).flatMap(([staff, ok]) =>
    Object.keys(requests).map((name) => [grant, staff, name, ok.includes(name)] as const),
  ),
);

describe('grant ∩ staff access, through the API', () => {
  it.each(cases)('delegation %s, staff %s: %s → allowed %s', async (grant, staff, name, ok) => {
    const setup = setups[grant] as Setup;
    const request = (requests[name] as (s: Setup) => { method: string; path: string; json?: unknown })(setup);
    const before = (await stack.deps.sql`select count(*)::int as n from operations`)[0]?.n;
    const response = await stack.request(request.path, {
      method: request.method,
      token: setup.tokens[staff],
      ...(request.json ? { json: request.json } : {}),
    });
    if (ok) {
      expect(response.status).toBe(request.method === 'GET' ? 200 : 202);
    } else {
      expect(response.status).toBe(403);
      expect(((await response.json()) as { code: string }).code).toBe('NOT_AUTHORIZED');
      expect((await stack.deps.sql`select count(*)::int as n from operations`)[0]?.n).toBe(before);
    }
  });
});
