import type { DelegationState } from './delegation-machine.ts';

/** Everything a partner user can do in a client organization through a delegation. */
export const capabilities = [
  'list_users',
  'provision_user',
  'reset_password_non_admin',
  'reset_password_admin',
  'list_domains',
  'add_domain',
  'verify_domain',
] as const;
export type Capability = (typeof capabilities)[number];

/**
 * What each role allows. `global_admin` is everything delegation can give (device
 * management is never available); `password_admin` resets the passwords of users who
 * are not administrators, and sees the user list to do so.
 */
const roleCapabilities: Record<string, readonly Capability[]> = {
  global_admin: capabilities,
  password_admin: ['list_users', 'reset_password_non_admin'],
};

function capabilitiesOf(roles: readonly string[]): Set<Capability> {
  return new Set(roles.flatMap((role) => roleCapabilities[role] ?? []));
}

export interface PermissionInput {
  /** `pastEnd`: its end date has passed (by the database clock), even if not yet swept to expired. */
  delegation: { state: DelegationState; roles: readonly string[]; pastEnd?: boolean };
  /** The partner user's staff access in the clients the partner supports. */
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
  return {
    allowed: false,
    reason: `the delegation and your staff access do not allow ${capability.replaceAll('_', ' ')}`,
  };
}

/** The capability a password reset needs, by whether its target is an administrator. */
export function passwordResetCapability(targetIsAdmin: boolean): Capability {
  return targetIsAdmin ? 'reset_password_admin' : 'reset_password_non_admin';
}
