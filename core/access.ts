import type { FieldIssue } from './errors.ts';
import { type Role, roleCatalogue, sortRoles } from './roles.ts';

export { type Role, roles } from './roles.ts';

/**
 * The two presets of the original delegated administration, kept so that API clients
 * that send `access` keep working: full = global admin, limited = password admin.
 */
export const accessLevels = ['full', 'limited'] as const;
export type AccessLevel = (typeof accessLevels)[number];

const presetRoles: Record<AccessLevel, Role[]> = {
  full: ['global_admin'],
  limited: ['password_admin'],
};

export function rolesForAccess(access: AccessLevel): Role[] {
  return [...presetRoles[access]];
}

/** The preset a role set is exactly, or null when it is none of them. */
export function presetForRoles(granted: readonly string[]): AccessLevel | null {
  const set = sortRoles(granted);
  for (const access of accessLevels) {
    const preset = presetRoles[access];
    if (set.length === preset.length && preset.every((role) => set.includes(role))) return access;
  }
  return null;
}

/** `{ access }` when the role set is exactly a preset, else nothing: for API views. */
export function presetAccess(granted: readonly string[]): { access?: AccessLevel } {
  const access = presetForRoles(granted);
  return access ? { access } : {};
}

/** What a role set means, in the words shown to a client's admin. */
export function describeRoles(granted: readonly string[]): string {
  const set = sortRoles(granted);
  if (set.includes('global_admin')) return describeAccess('full');
  if (set.length === 1 && set[0] === 'password_admin') return describeAccess('limited');
  return set.map((role) => roleCatalogue[role].label).join(', ') || 'Nothing';
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

/** `{ access }` when a staff role set is exactly a preset (none: the empty set), else nothing. */
export function staffPresetAccess(held: readonly string[]): { access?: StaffAccessLevel } {
  if (held.length === 0) return { access: 'none' };
  return presetAccess(held);
}

/**
 * A staff member's roles from a request naming either a preset (`access`) or the roles
 * (`roles`, possibly none), never both.
 */
export function staffRolesFrom(input: {
  access?: StaffAccessLevel | undefined;
  roles?: readonly Role[] | undefined;
}): { roles: Role[] } | { issues: FieldIssue[] } {
  if (input.access !== undefined && input.roles !== undefined) {
    return { issues: [{ path: 'roles', message: 'send either access or roles, not both' }] };
  }
  if (input.access !== undefined) return { roles: rolesForStaffAccess(input.access) };
  if (input.roles === undefined) return { issues: [{ path: 'roles', message: 'send access or roles' }] };
  const twice = input.roles.find((role, i) => input.roles?.indexOf(role) !== i);
  if (twice) return { issues: [{ path: 'roles', message: `${twice} is named twice` }] };
  return { roles: sortRoles(input.roles) };
}
