import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Capability, effectiveCapabilities } from '../../../core/permissions.ts';
import { type Role, roles } from '../../../core/roles.ts';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import { createTestStaff } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Every role of the catalogue × every operation route, generated: the routes come from
 * the OpenAPI document (each declares the capabilities it needs in `x-roles`), the roles
 * from core/roles.ts, so a new route or role cannot be left out. Each role is tried on
 * both sides of the intersection: held by the staff member in a delegation that grants
 * everything, and granted by the client to a staff member who holds everything.
 */
let stack: TestStack;
const unique = () => randomBytes(4).toString('hex');

interface Target {
  delegationId: string;
  member: string;
  admin: string;
}
/** A delegation granting `granted`, with a non-admin member, a second global admin and a domain. */
async function delegationGranting(granted: Role[]): Promise<Target & { owner: { partnerId: string } }> {
  const fixture = await createOfferFixture(stack, {
    offer: { roles: granted.map((role) => ({ role })), durationDays: 30 },
  });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  const addUser = async (isGlobalAdmin: boolean) => {
    const user = await createClientOrganization(stack.deps.db, {
      orgName: 'x',
      adminName: 'U',
      email: `u-${unique()}@client.example`,
      password: 'correct horse battery staple',
    });
    await stack.deps
      .sql`update users set org_id = ${admin.orgId}, is_global_admin = ${isGlobalAdmin} where id = ${user.userId}`;
    return user.userId;
  };
  await stack.deps.sql`insert into domains (id, org_id, name, verification_token)
    values (${`dom_${randomBytes(16).toString('hex')}`}, ${admin.orgId}, 'matrix.example.com', 'tok')`;
  return { delegationId, member: await addUser(false), admin: await addUser(true), owner: fixture.partner };
}

/** How to call each operation route, and the capability each call needs. */
const calls: Record<string, { capability: Capability; path: (t: Target) => string; body?: () => unknown }[]> = {
  'GET /v1/delegations/{id}/users': [
    { capability: 'list_users', path: (t) => `/v1/delegations/${t.delegationId}/users` },
  ],
  'POST /v1/delegations/{id}/users': [
    {
      capability: 'provision_user',
      path: (t) => `/v1/delegations/${t.delegationId}/users`,
      body: () => ({ displayName: 'M', userName: `m${unique()}` }),
    },
  ],
  'POST /v1/delegations/{id}/users/{userId}/password-reset': [
    {
      capability: 'reset_password_non_admin',
      path: (t) => `/v1/delegations/${t.delegationId}/users/${t.member}/password-reset`,
    },
    {
      capability: 'reset_password_admin',
      path: (t) => `/v1/delegations/${t.delegationId}/users/${t.admin}/password-reset`,
    },
  ],
  'GET /v1/delegations/{id}/domains': [
    { capability: 'list_domains', path: (t) => `/v1/delegations/${t.delegationId}/domains` },
  ],
  'POST /v1/delegations/{id}/domains': [
    {
      capability: 'add_domain',
      path: (t) => `/v1/delegations/${t.delegationId}/domains`,
      body: () => ({ name: `d${unique()}.example.org` }),
    },
  ],
  'POST /v1/delegations/{id}/domains/{name}/verify': [
    { capability: 'verify_domain', path: (t) => `/v1/delegations/${t.delegationId}/domains/matrix.example.com/verify` },
  ],
};

let operationRoutes: { name: string; method: string; capabilities: string[] }[] = [];

beforeAll(async () => {
  stack = await createTestStack();
  const document = (await (await stack.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { 'x-roles'?: Record<string, string[]>; tags?: string[] }>>;
  };
  operationRoutes = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op['x-roles'] !== undefined)
      .map(([method, op]) => ({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        capabilities: Object.keys(op['x-roles'] ?? {}),
      })),
  );
});
afterAll(() => stack.close());

describe('role × operation route matrix', () => {
  it('knows how to call every route that declares roles, and each capability it declares', () => {
    expect(operationRoutes.map((r) => r.name).sort()).toEqual(Object.keys(calls).sort());
    for (const route of operationRoutes) {
      expect(calls[route.name]?.map((c) => c.capability).sort()).toEqual([...route.capabilities].sort());
    }
  });

  const sides = roles.flatMap((role) => [
    ['held by the staff member', role] as const,
    ['granted by the client', role] as const,
  ]);
  it.each(sides)('%s: %s', async (side, role) => {
    const granted: Role[] = side === 'granted by the client' ? [role] : ['global_admin'];
    const held: Role[] = side === 'held by the staff member' ? [role] : ['global_admin'];
    const target = await delegationGranting(granted);
    const token = await createTestStaff(stack, target.owner.partnerId, held);
    const allowed = effectiveCapabilities({ delegation: { state: 'active', roles: granted }, staffRoles: held });
    for (const route of operationRoutes) {
      for (const call of calls[route.name] ?? []) {
        const response = await stack.request(call.path(target), {
          method: route.method,
          token,
          ...(call.body ? { json: call.body() } : {}),
        });
        const expected = allowed.has(call.capability) ? (route.method === 'GET' ? 200 : 202) : 403;
        expect(response.status, `${route.name} (${call.capability}) with ${role} ${side}`).toBe(expected);
        await response.body?.cancel();
      }
    }
  });

  // The staff none column: no role held, in a delegation that grants everything — no
  // partner data at all (core/partner-permissions.ts seesPartnerData), so every call is refused.
  it('held by nobody (staff access none): NOT_AUTHORIZED on every operation route', async () => {
    const target = await delegationGranting(['global_admin']);
    const token = await createTestStaff(stack, target.owner.partnerId, []);
    for (const route of operationRoutes) {
      for (const call of calls[route.name] ?? []) {
        const response = await stack.request(call.path(target), {
          method: route.method,
          token,
          ...(call.body ? { json: call.body() } : {}),
        });
        expect(response.status, `${route.name} (${call.capability}) with no role`).toBe(403);
        expect(((await response.json()) as { code: string }).code).toBe('NOT_AUTHORIZED');
      }
    }
  });
});
