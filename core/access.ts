/**
 * Roles a client can grant and a partner user can hold. Stored as role sets so that
 * granular roles (user admin, domain admin…) fit later without a schema change.
 */
export const roles = ['global_admin', 'password_admin'] as const;
export type Role = (typeof roles)[number];

/** The two presets of the original delegated administration. */
export const accessLevels = ['full', 'limited'] as const;
export type AccessLevel = (typeof accessLevels)[number];

const presetRoles: Record<AccessLevel, Role[]> = {
  full: ['global_admin'],
  limited: ['password_admin'],
};

export function rolesForAccess(access: AccessLevel): Role[] {
  return [...presetRoles[access]];
}

/** The preset a role set corresponds to; `full` wins when global admin is present. */
export function accessForRoles(granted: readonly string[]): AccessLevel {
  return granted.includes('global_admin') ? 'full' : 'limited';
}

/** What an access level means, in the words shown to a client's admin. */
export function describeAccess(access: AccessLevel): string {
  return access === 'full'
    ? 'Full administration: the same rights as your global administrators'
    : 'Limited administration: can reset passwords of non-admin users';
}

/** Staff access of a partner user in the clients the partner supports. */
export const staffAccessLevels = ['none', 'limited', 'full'] as const;
export type StaffAccessLevel = (typeof staffAccessLevels)[number];

export function rolesForStaffAccess(access: StaffAccessLevel): Role[] {
  return access === 'none' ? [] : rolesForAccess(access);
}

export function staffAccessForRoles(roles: readonly string[]): StaffAccessLevel {
  return roles.length === 0 ? 'none' : accessForRoles(roles);
}
