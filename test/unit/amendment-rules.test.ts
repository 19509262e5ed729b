import { describe, expect, it } from 'vitest';
import { amendmentLinkView } from '../../core/amendment-link-view.ts';
import { type AmendmentPlan, type DelegationTerms, planAmendment } from '../../core/amendment-rules.ts';
import { compareTerms, describeChange } from '../../core/amendment-words.ts';
import type { FieldIssue } from '../../core/errors.ts';

const now = new Date('2030-01-01T00:00:00Z');
const day = 86_400_000;
const terms = (roles: DelegationTerms['roles'], more: Partial<DelegationTerms> = {}): DelegationTerms => ({
  roles,
  endsAt: new Date(now.getTime() + 100 * day),
  autoExtend: false,
  ...more,
});
const plan = (result: AmendmentPlan | FieldIssue[]) => {
  if (Array.isArray(result)) throw new Error(JSON.stringify(result));
  return result;
};
const issues = (result: AmendmentPlan | FieldIssue[]) => (Array.isArray(result) ? result : []);

describe('planAmendment: the consent rule', () => {
  it('removing roles and turning auto-extend off are reductions, applied at once', () => {
    const p = plan(
      planAmendment(
        terms(['password_admin', 'user_admin'], { autoExtend: true }),
        { removeRoles: ['user_admin'], autoExtend: false },
        now,
      ),
    );
    expect(p.addition).toBeNull();
    expect(p.reduction?.change).toEqual({
      addRoles: [],
      removeRoles: ['user_admin'],
      extendDays: null,
      autoExtend: false,
    });
    expect(p.reduction?.after).toMatchObject({ roles: ['password_admin'], autoExtend: false });
  });

  it('adding roles, any extension and auto-extend on are additions, waiting for the client', () => {
    const current = terms(['password_admin']);
    for (const request of [{ addRoles: ['domain_admin' as const] }, { extendDays: 1 }, { autoExtend: true }]) {
      const p = plan(planAmendment(current, request, now));
      expect(p.reduction, JSON.stringify(request)).toBeNull();
      expect(p.addition, JSON.stringify(request)).not.toBeNull();
    }
    const p = plan(planAmendment(current, { addRoles: ['domain_admin'], extendDays: 30 }, now));
    expect(p.addition?.after).toEqual({
      roles: ['password_admin', 'domain_admin'],
      endsAt: new Date(current.endsAt.getTime() + 30 * day),
      autoExtend: false,
    });
  });

  it('a mixed request: the addition starts from the terms after the reduction', () => {
    const p = plan(
      planAmendment(
        terms(['helpdesk_admin', 'user_admin']),
        { removeRoles: ['helpdesk_admin'], addRoles: ['domain_admin'] },
        now,
      ),
    );
    expect(p.reduction?.after.roles).toEqual(['user_admin']);
    expect(p.addition?.after.roles).toEqual(['user_admin', 'domain_admin']);
  });

  it('turning auto-extend off in the same request lets global admin be added', () => {
    const p = plan(
      planAmendment(
        terms(['password_admin'], { autoExtend: true }),
        { addRoles: ['global_admin'], autoExtend: false },
        now,
      ),
    );
    expect(p.reduction?.after.autoExtend).toBe(false);
    expect(p.addition?.after).toMatchObject({ roles: ['password_admin', 'global_admin'], autoExtend: false });
  });

  it.each([
    ['nothing', terms(['password_admin']), {}, /change something/],
    [
      'both added and removed',
      terms(['password_admin', 'user_admin']),
      { addRoles: ['domain_admin'], removeRoles: ['domain_admin'] },
      /both added and removed/,
    ],
    [
      'every role removed',
      terms(['password_admin']),
      { removeRoles: ['password_admin'] },
      /end the delegation instead/,
    ],
    ['already granted', terms(['password_admin']), { addRoles: ['password_admin'] }, /already granted/],
    ['not granted', terms(['password_admin', 'user_admin']), { removeRoles: ['domain_admin'] }, /not granted/],
    ['named twice', terms(['password_admin']), { addRoles: ['user_admin', 'user_admin'] }, /named twice/],
    ['auto-extend already on', terms(['password_admin'], { autoExtend: true }), { autoExtend: true }, /already on/],
    ['auto-extend with global admin', terms(['global_admin']), { autoExtend: true }, /never allowed with global_admin/],
    [
      'global admin with auto-extend',
      terms(['password_admin'], { autoExtend: true }),
      { addRoles: ['global_admin'] },
      /never allowed/,
    ],
    ['an end too far', terms(['password_admin']), { extendDays: 631 }, /more than 730 days from now/],
  ] as const)('refuses %s', (_name, current, request, words) => {
    const found = issues(planAmendment(current, request, now));
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((i) => i.message).join(' ')).toMatch(words);
  });

  it('allows an end exactly 730 days from now', () => {
    expect(plan(planAmendment(terms(['password_admin']), { extendDays: 630 }, now)).addition).not.toBeNull();
  });
});

describe('plain words', () => {
  it('compares terms line by line and describes each part of a change', () => {
    const before = terms(['password_admin']);
    const after = { ...before, roles: ['password_admin' as const, 'domain_admin' as const] };
    expect(compareTerms(before, after).map((l) => [l.label, l.changed])).toEqual([
      ['Access', true],
      ['Ends on', false],
      ['Renewal', false],
    ]);
    expect(
      describeChange({ addRoles: ['domain_admin'], removeRoles: ['user_admin'], extendDays: 3, autoExtend: false }),
    ).toEqual([
      'Adds Domain administrator: can add domains to your organization and verify them.',
      'Removes User administrator',
      'Moves the end 3 days later',
      'Turns automatic renewal off',
    ]);
  });
});

describe('amendmentLinkView', () => {
  const link = {
    state: 'pending' as const,
    pastExpiry: false,
    clientOrgId: 'org_a',
    delegation: { state: 'active' as const, pastEnd: false },
  };
  const admin = { orgId: 'org_a', orgKind: 'client' as const, isGlobalAdmin: true };
  it('decides what the page shows', () => {
    expect(amendmentLinkView(link, admin)).toEqual({ page: 'proposal' });
    expect(amendmentLinkView(link, null)).toEqual({ page: 'sign-in' });
    expect(amendmentLinkView(link, { ...admin, orgId: 'org_b' })).toEqual({ page: 'not-allowed' });
    expect(amendmentLinkView(link, { ...admin, isGlobalAdmin: false })).toEqual({ page: 'not-allowed' });
    expect(amendmentLinkView(link, { ...admin, orgKind: 'partner' })).toEqual({ page: 'not-allowed' });
    expect(amendmentLinkView({ ...link, state: 'applied' }, admin)).toEqual({ page: 'gone', reason: 'accepted' });
    expect(amendmentLinkView({ ...link, delegation: { state: 'terminated', pastEnd: false } }, null)).toEqual({
      page: 'gone',
      reason: 'ended',
    });
    expect(amendmentLinkView({ ...link, delegation: { state: 'active', pastEnd: true } }, admin)).toEqual({
      page: 'gone',
      reason: 'ended',
    });
    expect(amendmentLinkView({ ...link, pastExpiry: true }, admin)).toEqual({ page: 'gone', reason: 'expired' });
    // Another organization learns nothing, not even that it was answered.
    expect(amendmentLinkView({ ...link, state: 'declined' }, { ...admin, orgId: 'org_b' })).toEqual({
      page: 'not-allowed',
    });
  });
});
