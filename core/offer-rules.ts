import { type AccessLevel, rolesForAccess } from './access.ts';
import type { FieldIssue } from './errors.ts';
import { type Role, sortRoles } from './roles.ts';

/** Longest delegation, and the cap a manual extension may reach (2 years). */
export const MAX_DURATION_DAYS = 730;
export const DEFAULT_DURATION_DAYS = 730;
/** How far one automatic extension moves the end date. */
export const AUTO_EXTEND_DAYS = 180;
/** An offer nobody answers expires after this many days. */
export const ANSWER_TIMEOUT_DAYS = 90;
/** An offer link works for this long unless the partner chooses otherwise. */
export const DEFAULT_OFFER_EXPIRY_DAYS = 90;
export const MAX_OFFER_EXPIRY_DAYS = 365;

/** One role an offer asks for; an optional one may be left out by the client when accepting. */
export interface RoleRequest {
  role: Role;
  optional?: boolean | undefined;
}

/** What an offer asks for: the roles the client must grant, and those it may leave out. */
export interface OfferRoles {
  roles: Role[];
  optionalRoles: Role[];
}

/**
 * The roles of an offer from a request that names either a preset (`access`) or the roles
 * (`roles`), never both: issues for both or neither, a role named twice, or no required role.
 */
export function offerRolesFrom(input: {
  access?: AccessLevel | undefined;
  roles?: RoleRequest[] | undefined;
}): OfferRoles | FieldIssue[] {
  if (input.access !== undefined && input.roles !== undefined) {
    return [{ path: 'roles', message: 'send either access or roles, not both' }];
  }
  if (input.access !== undefined) return { roles: rolesForAccess(input.access), optionalRoles: [] };
  if (input.roles === undefined) return [{ path: 'roles', message: 'send access or roles' }];
  const issues: FieldIssue[] = [];
  const seen = new Set<Role>();
  input.roles.forEach(({ role }, i) => {
    if (seen.has(role)) issues.push({ path: `roles/${i}/role`, message: `${role} is named twice` });
    seen.add(role);
  });
  const required = sortRoles(input.roles.filter((r) => !r.optional).map((r) => r.role));
  if (required.length === 0) issues.push({ path: 'roles', message: 'at least one role must be required' });
  if (issues.length > 0) return issues;
  return { roles: required, optionalRoles: sortRoles(input.roles.filter((r) => r.optional).map((r) => r.role)) };
}

export interface OfferTerms extends OfferRoles {
  durationDays: number;
  autoExtend: boolean;
}

/**
 * Rules an offer must follow beyond the shape of its fields. Auto-extend is never
 * allowed with global admin (full access), required or optional: standing global-admin
 * rights are exactly what least privilege is meant to end.
 */
export function checkOfferTerms(terms: OfferTerms): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (terms.autoExtend && [...terms.roles, ...terms.optionalRoles].includes('global_admin')) {
    issues.push({ path: 'autoExtend', message: 'auto-extend is not allowed with full access' });
  }
  if (!Number.isInteger(terms.durationDays) || terms.durationDays < 1 || terms.durationDays > MAX_DURATION_DAYS) {
    issues.push({ path: 'durationDays', message: `must be a whole number of days from 1 to ${MAX_DURATION_DAYS}` });
  }
  return issues;
}
