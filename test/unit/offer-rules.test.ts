import { describe, expect, it } from 'vitest';
import { accessForRoles, describeAccess, rolesForAccess } from '../../core/access.ts';
import { checkOfferTerms } from '../../core/offer-rules.ts';
import { canSendOffers } from '../../core/partner-permissions.ts';

describe('offer terms', () => {
  it('refuses auto-extend with full access', () => {
    expect(checkOfferTerms({ access: 'full', durationDays: 30, autoExtend: true })).toEqual([
      { path: 'autoExtend', message: 'auto-extend is not allowed with full access' },
    ]);
    expect(checkOfferTerms({ access: 'limited', durationDays: 30, autoExtend: true })).toEqual([]);
    expect(checkOfferTerms({ access: 'full', durationDays: 30, autoExtend: false })).toEqual([]);
  });

  it.each([0, 731, 1.5])('refuses a duration of %s days', (durationDays) => {
    expect(checkOfferTerms({ access: 'limited', durationDays, autoExtend: false })[0]?.path).toBe('durationDays');
  });

  it.each([1, 730])('accepts a duration of %s days', (durationDays) => {
    expect(checkOfferTerms({ access: 'limited', durationDays, autoExtend: false })).toEqual([]);
  });
});

describe('access presets', () => {
  it('maps presets to role sets and back', () => {
    expect(rolesForAccess('full')).toEqual(['global_admin']);
    expect(rolesForAccess('limited')).toEqual(['password_admin']);
    expect(accessForRoles(['password_admin'])).toBe('limited');
    expect(accessForRoles(['password_admin', 'global_admin'])).toBe('full');
    expect(describeAccess('full')).toMatch(/global administrators/);
  });

  it('lets owners and staff with any access send offers, not staff with none', () => {
    expect(canSendOffers({ isOwner: true, roles: [] })).toBe(true);
    expect(canSendOffers({ isOwner: false, roles: ['password_admin'] })).toBe(true);
    expect(canSendOffers({ isOwner: false, roles: [] })).toBe(false);
  });
});
