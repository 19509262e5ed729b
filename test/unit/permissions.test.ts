import { describe, expect, it } from 'vitest';
import type { DelegationState } from '../../core/delegation-machine.ts';
import { type Capability, capabilities, decide, effectiveCapabilities } from '../../core/permissions.ts';
import { type Role, roles } from '../../core/roles.ts';

const full = ['global_admin'];
const limited = ['password_admin'];
const none: string[] = [];
const limitedCaps: Capability[] = ['list_users', 'reset_password_non_admin'];

/**
 * Every combination of what the client granted and what the staff member holds, written
 * out by hand: the expected capabilities are the intersection.
 */
const table: [string, string[], string, string[], readonly Capability[]][] = [
  ['full', full, 'full', full, capabilities],
  ['full', full, 'limited', limited, limitedCaps],
  ['full', full, 'none', none, []],
  ['limited', limited, 'full', full, limitedCaps],
  ['limited', limited, 'limited', limited, limitedCaps],
  ['limited', limited, 'none', none, []],
];

describe('effective permission = delegation grant ∩ staff access', () => {
  it.each(table)('delegation %s ∩ staff %s', (_g, granted, _s, staff, expected) => {
    const caps = effectiveCapabilities({ delegation: { state: 'active', roles: granted }, staffRoles: staff });
    expect([...caps].sort()).toEqual([...expected].sort());
    for (const capability of capabilities) {
      expect(decide(capability, { delegation: { state: 'active', roles: granted }, staffRoles: staff }).allowed).toBe(
        expected.includes(capability),
      );
    }
  });

  it.each<DelegationState>(['invited', 'offered', 'accepting', 'declined', 'expired', 'terminated', 'failed'])(
    'a %s delegation allows nothing, whatever the roles',
    (state) => {
      expect(effectiveCapabilities({ delegation: { state, roles: full }, staffRoles: full }).size).toBe(0);
      const decision = decide('list_users', { delegation: { state, roles: full }, staffRoles: full });
      expect(decision).toEqual({ allowed: false, reason: `the delegation is ${state}, not active` });
    },
  );

  it('never grants unknown roles anything', () => {
    expect(
      effectiveCapabilities({ delegation: { state: 'active', roles: ['device_admin'] }, staffRoles: ['device_admin'] })
        .size,
    ).toBe(0);
  });
});

describe('a delegation past its end', () => {
  it('allows nothing even before the sweep marks it expired', () => {
    const input = { delegation: { state: 'active' as const, roles: full, pastEnd: true }, staffRoles: full };
    expect(effectiveCapabilities(input).size).toBe(0);
    expect(decide('list_users', input)).toEqual({ allowed: false, reason: 'the delegation has reached its end' });
  });
});

describe('the role catalogue: what each role allows, written out by hand', () => {
  const expected: Record<Role, Capability[]> = {
    directory_reader: ['list_users', 'list_domains'],
    password_admin: ['list_users', 'reset_password_non_admin'],
    helpdesk_admin: ['list_users', 'reset_password_non_admin'],
    user_admin: ['list_users', 'reset_password_non_admin', 'provision_user'],
    domain_admin: ['list_domains', 'add_domain', 'verify_domain'],
    privileged_auth_admin: ['list_users', 'reset_password_non_admin', 'reset_password_admin'],
    global_admin: [...capabilities],
  };

  it('covers every role of the catalogue', () => {
    expect(Object.keys(expected).sort()).toEqual([...roles].sort());
  });

  it.each(roles)('%s, granted and held, allows exactly its capabilities', (role) => {
    const caps = effectiveCapabilities({ delegation: { state: 'active', roles: [role] }, staffRoles: [role] });
    expect([...caps].sort()).toEqual([...expected[role]].sort());
  });

  it('a capability is allowed only where the client granted it and the staff member holds it', () => {
    // The client granted user admin; the staff member is a domain admin: nothing in common.
    const input = { delegation: { state: 'active' as const, roles: ['user_admin'] }, staffRoles: ['domain_admin'] };
    expect(effectiveCapabilities(input).size).toBe(0);
    // A global admin on staff gets only what the client granted.
    const granted = effectiveCapabilities({
      delegation: { state: 'active', roles: ['domain_admin'] },
      staffRoles: ['global_admin'],
    });
    expect([...granted].sort()).toEqual(['add_domain', 'list_domains', 'verify_domain']);
  });

  it('names the least role first when refusing', () => {
    const decision = decide('provision_user', {
      delegation: { state: 'active', roles: ['password_admin'] },
      staffRoles: ['global_admin'],
    });
    expect(decision.allowed).toBe(false);
    expect(decision.allowed ? '' : decision.reason).toContain('user_admin or global_admin');
  });

  it("says which side is the limit: the client's grant, the staff member's access, or both", () => {
    const reason = (granted: string[], staff: string[]) => {
      const d = decide('provision_user', { delegation: { state: 'active', roles: granted }, staffRoles: staff });
      return d.allowed ? 'allowed' : d.reason;
    };
    expect(reason(['password_admin'], ['user_admin'])).toMatch(
      /^the client did not grant provision user in this delegation \(.*\); propose an amendment/,
    );
    expect(reason(['user_admin'], ['password_admin'])).toMatch(
      /^your staff access does not allow provision user \(.*\); an owner of your partner can change it$/,
    );
    expect(reason(['password_admin'], ['directory_reader'])).toMatch(
      /^neither the client's grant nor your staff access/,
    );
  });
});
