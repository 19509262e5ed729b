import { describe, expect, it } from 'vitest';
import { grantRoles, isGrantOf } from '../../core/granted-roles.ts';
import type { Role } from '../../core/roles.ts';

const offer = { required: ['password_admin'] as Role[], optional: ['user_admin', 'domain_admin'] as Role[] };

describe('grantRoles', () => {
  it('grants the required roles and the optional ones kept, and names those left out', () => {
    expect(grantRoles(offer, ['domain_admin'])).toEqual({
      granted: ['password_admin', 'domain_admin'],
      leftOut: ['user_admin'],
    });
    expect(grantRoles(offer, [])).toEqual({ granted: ['password_admin'], leftOut: ['user_admin', 'domain_admin'] });
    expect(grantRoles(offer, ['user_admin', 'domain_admin', 'user_admin'])).toEqual({
      granted: ['password_admin', 'user_admin', 'domain_admin'],
      leftOut: [],
    });
  });

  it.each([
    ['a role the offer does not ask for', 'global_admin', 'Global administrator is not an optional role of this offer'],
    ['a required role', 'password_admin', 'Password administrator is not an optional role of this offer'],
    ['an unknown name', 'mdm_admin', 'an unknown role was sent'],
    ['an inherited property name', 'constructor', 'an unknown role was sent'],
  ])('refuses %s', (_label, name, message) => {
    expect(grantRoles(offer, ['user_admin', name])).toEqual([{ path: 'roles', message }]);
  });
});

describe('isGrantOf', () => {
  it('holds for every required role plus optional ones, and nothing else', () => {
    expect(isGrantOf(offer, ['password_admin'])).toBe(true);
    expect(isGrantOf(offer, ['password_admin', 'user_admin', 'domain_admin'])).toBe(true);
    expect(isGrantOf(offer, ['user_admin'])).toBe(false);
    expect(isGrantOf(offer, ['password_admin', 'global_admin'])).toBe(false);
  });
});
