import { describe, expect, it } from 'vitest';
import { scopesAllowedFor, tokenScopes } from '../../core/token-scopes.ts';

describe('the scopes a holder may give a token', () => {
  it.each([
    ['an owner', { isOwner: true, roles: [] }, [...tokenScopes]],
    [
      'staff with full access',
      { isOwner: false, roles: ['global_admin'] },
      ['read', 'offers:write', 'campaigns:write', 'delegations:write', 'operations:write'],
    ],
    [
      'staff with limited access',
      { isOwner: false, roles: ['password_admin'] },
      ['read', 'offers:write', 'campaigns:write', 'operations:write'],
    ],
    ['staff without access', { isOwner: false, roles: [] }, ['read']],
  ])('%s', (_label, user, expected) => {
    expect(scopesAllowedFor(user)).toEqual(expected);
  });
});
