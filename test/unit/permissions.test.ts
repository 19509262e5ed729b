import { describe, expect, it } from 'vitest';
import type { DelegationState } from '../../core/delegation-machine.ts';
import { type Capability, capabilities, decide, effectiveCapabilities } from '../../core/permissions.ts';

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
