import { describe, expect, it } from 'vitest';
import { describeAccess, presetForRoles, rolesForAccess } from '../../core/access.ts';
import { checkOfferTerms, offerRolesFrom } from '../../core/offer-rules.ts';
import { canSendOffers } from '../../core/partner-permissions.ts';

const full = { roles: rolesForAccess('full'), optionalRoles: [] };
const limited = { roles: rolesForAccess('limited'), optionalRoles: [] };

describe('offer terms', () => {
  it('refuses auto-extend with full access', () => {
    expect(checkOfferTerms({ ...full, durationDays: 30, autoExtend: true })).toEqual([
      { path: 'autoExtend', message: 'auto-extend is not allowed with full access' },
    ]);
    expect(checkOfferTerms({ ...limited, durationDays: 30, autoExtend: true })).toEqual([]);
    expect(checkOfferTerms({ ...full, durationDays: 30, autoExtend: false })).toEqual([]);
  });

  it('refuses auto-extend with global admin offered as an optional role too', () => {
    const terms = { roles: ['user_admin' as const], optionalRoles: ['global_admin' as const], durationDays: 30 };
    expect(checkOfferTerms({ ...terms, autoExtend: true })[0]?.path).toBe('autoExtend');
  });

  it.each([0, 731, 1.5])('refuses a duration of %s days', (durationDays) => {
    expect(checkOfferTerms({ ...limited, durationDays, autoExtend: false })[0]?.path).toBe('durationDays');
  });

  it.each([1, 730])('accepts a duration of %s days', (durationDays) => {
    expect(checkOfferTerms({ ...limited, durationDays, autoExtend: false })).toEqual([]);
  });
});

describe('the roles of an offer', () => {
  it('come from a preset or from the roles, not both', () => {
    expect(offerRolesFrom({ access: 'limited' })).toEqual({ roles: ['password_admin'], optionalRoles: [] });
    expect(offerRolesFrom({ roles: [{ role: 'domain_admin', optional: true }, { role: 'user_admin' }] })).toEqual({
      roles: ['user_admin'],
      optionalRoles: ['domain_admin'],
    });
    expect(offerRolesFrom({ access: 'full', roles: [{ role: 'user_admin' }] })).toEqual([
      { path: 'roles', message: 'send either access or roles, not both' },
    ]);
    expect(offerRolesFrom({})).toEqual([{ path: 'roles', message: 'send access or roles' }]);
  });

  it('refuses a role named twice, and an offer with nothing required', () => {
    expect(offerRolesFrom({ roles: [{ role: 'user_admin' }, { role: 'user_admin', optional: true }] })).toEqual([
      { path: 'roles/1/role', message: 'user_admin is named twice' },
    ]);
    expect(offerRolesFrom({ roles: [{ role: 'user_admin', optional: true }] })).toEqual([
      { path: 'roles', message: 'at least one role must be required' },
    ]);
  });
});

describe('access presets', () => {
  it('maps presets to role sets and back', () => {
    expect(rolesForAccess('full')).toEqual(['global_admin']);
    expect(rolesForAccess('limited')).toEqual(['password_admin']);
    expect(presetForRoles(['password_admin'])).toBe('limited');
    expect(presetForRoles(['global_admin'])).toBe('full');
    // A set that is no preset is not called one: granular roles are described as they are.
    expect(presetForRoles(['password_admin', 'global_admin'])).toBeNull();
    expect(presetForRoles(['user_admin'])).toBeNull();
    expect(describeAccess('full')).toMatch(/global administrators/);
  });

  it('lets owners and staff with any access send offers, not staff with none', () => {
    expect(canSendOffers({ isOwner: true, roles: [] })).toBe(true);
    expect(canSendOffers({ isOwner: false, roles: ['password_admin'] })).toBe(true);
    expect(canSendOffers({ isOwner: false, roles: [] })).toBe(false);
  });
});
