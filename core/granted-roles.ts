import type { FieldIssue } from './errors.ts';
import { isRole, type Role, roleCatalogue, sortRoles } from './roles.ts';

/** What an acceptance grants: every required role, and the optional ones the client kept. */
export interface GrantedRoles {
  granted: Role[];
  /** Optional roles of the offer the client left out. */
  leftOut: Role[];
}

/**
 * The roles an acceptance grants, from the offer's required and optional roles and the
 * optional ones the client kept ticked. Only the offer's optional roles may be kept:
 * anything else (an unknown name, a required role, a role the offer does not ask for) is an
 * issue, never silently dropped — it did not come from the page we showed.
 */
export function grantRoles(
  offer: { required: readonly Role[]; optional: readonly Role[] },
  kept: readonly string[],
): GrantedRoles | FieldIssue[] {
  const optional = offer.optional.filter((role) => !offer.required.includes(role));
  const issues: FieldIssue[] = kept
    .filter((name) => !(isRole(name) && optional.includes(name)))
    .map((name) => ({
      path: 'roles',
      message: isRole(name)
        ? `${roleCatalogue[name].label} is not an optional role of this offer`
        : 'an unknown role was sent',
    }));
  if (issues.length > 0) return issues;
  return {
    granted: sortRoles([...offer.required, ...kept]),
    leftOut: sortRoles(optional.filter((role) => !kept.includes(role))),
  };
}

/**
 * Whether a delegation's roles are a grant of this offer: every required role, and
 * nothing beyond its optional ones. process-acceptance checks it before activating.
 */
export function isGrantOf(
  offer: { required: readonly Role[]; optional: readonly Role[] },
  roles: readonly string[],
): boolean {
  const choice = grantRoles(
    offer,
    roles.filter((role) => !offer.required.includes(role as Role)),
  );
  return !Array.isArray(choice) && offer.required.every((role) => roles.includes(role));
}
