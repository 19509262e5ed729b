import type { DelegationState } from './delegation-machine.ts';
import { type Role, roleCatalogue } from './roles.ts';

/**
 * Everything a partner user can do in a client organization through a delegation, and
 * the roles that allow it, the least first. This table is the only place that knows:
 * the API's checks, the worker's re-check when it runs, the dashboard and the OpenAPI
 * descriptions read it. `global_admin` allows everything delegation can give (device
 * management is never available).
 */
export const capabilityRoles = {
  list_users: ['directory_reader', 'password_admin', 'helpdesk_admin', 'user_admin', 'privileged_auth_admin'],
  list_domains: ['directory_reader', 'domain_admin'],
  reset_password_non_admin: ['password_admin', 'helpdesk_admin', 'user_admin', 'privileged_auth_admin'],
  reset_password_admin: ['privileged_auth_admin'],
  provision_user: ['user_admin'],
  add_domain: ['domain_admin'],
  verify_domain: ['domain_admin'],
} as const satisfies Record<string, readonly Exclude<Role, 'global_admin'>[]>;

export type Capability = keyof typeof capabilityRoles;
export const capabilities = Object.keys(capabilityRoles) as Capability[];

/** The roles that allow `capability`, the least first, global admin last. */
export function rolesAllowing(capability: Capability): Role[] {
  return [...capabilityRoles[capability], 'global_admin'];
}

/** "password_admin, helpdesk_admin … or global_admin", for the OpenAPI descriptions. */
export function describeRolesAllowing(capability: Capability): string {
  const names = rolesAllowing(capability).map((role) => `\`${role}\``);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

function capabilitiesOf(roles: readonly string[]): Set<Capability> {
  const held = new Set(roles.filter((role) => Object.hasOwn(roleCatalogue, role)));
  if (held.has('global_admin')) return new Set(capabilities);
  return new Set(
    capabilities.filter((capability) =>
      (capabilityRoles[capability] as readonly string[]).some((role) => held.has(role)),
    ),
  );
}

export interface PermissionInput {
  /** `pastEnd`: its end date has passed (by the database clock), even if not yet swept to expired. */
  delegation: { state: DelegationState; roles: readonly string[]; pastEnd?: boolean };
  /** The partner user's staff roles in the clients the partner supports. */
  staffRoles: readonly string[];
}

/**
 * The effective permission of a partner user in a client organization: what the
 * client granted in the delegation ∩ what the partner gave this staff member, and
 * nothing at all unless the delegation is active.
 */
export function effectiveCapabilities(input: PermissionInput): Set<Capability> {
  if (input.delegation.state !== 'active' || input.delegation.pastEnd) return new Set();
  const granted = capabilitiesOf(input.delegation.roles);
  return new Set([...capabilitiesOf(input.staffRoles)].filter((c) => granted.has(c)));
}

export type PermissionDecision = { allowed: true } | { allowed: false; reason: string };

/** Whether `capability` is allowed, with the reason when it is not (for 403s and rejected operations). */
export function decide(capability: Capability, input: PermissionInput): PermissionDecision {
  if (input.delegation.state !== 'active') {
    return { allowed: false, reason: `the delegation is ${input.delegation.state}, not active` };
  }
  if (input.delegation.pastEnd) return { allowed: false, reason: 'the delegation has reached its end' };
  if (effectiveCapabilities(input).has(capability)) return { allowed: true };
  return { allowed: false, reason: whichLimit(capability, input) };
}

/** Why `capability` is refused in an active delegation: the client's grant, the staff member's access, or both. */
function whichLimit(capability: Capability, input: PermissionInput): string {
  const what = capability.replaceAll('_', ' ');
  const needs = `it needs ${rolesAllowing(capability).join(' or ')}`;
  const granted = capabilitiesOf(input.delegation.roles).has(capability);
  const staffed = capabilitiesOf(input.staffRoles).has(capability);
  if (!granted && staffed) {
    return `the client did not grant ${what} in this delegation (${needs}); propose an amendment for the client's yes`;
  }
  if (granted && !staffed) {
    return `your staff access does not allow ${what} (${needs}); an owner of your partner can change it`;
  }
  return `neither the client's grant nor your staff access allows ${what} (${needs})`;
}

/** The capability a password reset needs, by whether its target is an administrator. */
export function passwordResetCapability(targetIsAdmin: boolean): Capability {
  return targetIsAdmin ? 'reset_password_admin' : 'reset_password_non_admin';
}
