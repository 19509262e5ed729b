/**
 * The role catalogue: what a client can grant a partner in a delegation, and what a
 * partner gives each of its staff. Each role in plain words, as clients and staff read it.
 * What each role allows is written once, per action, in core/permissions.ts.
 */
export const roleCatalogue = {
  directory_reader: {
    label: 'Directory reader',
    description: 'Can see the users and domains of your organization, and change nothing.',
  },
  password_admin: {
    label: 'Password administrator',
    description: 'Can reset the passwords of users who are not administrators.',
  },
  helpdesk_admin: {
    label: 'Helpdesk administrator',
    description: 'Can reset the passwords of users who are not administrators, as a help desk does.',
  },
  user_admin: {
    label: 'User administrator',
    description: 'Can create users, and reset the passwords of users who are not administrators.',
  },
  domain_admin: {
    label: 'Domain administrator',
    description: 'Can add domains to your organization and verify them.',
  },
  privileged_auth_admin: {
    label: 'Privileged authentication administrator',
    description: 'Can reset the password of any user, administrators included.',
  },
  global_admin: {
    label: 'Global administrator',
    description: 'The same rights as your global administrators, for everything delegation allows.',
  },
} as const satisfies Record<string, { label: string; description: string }>;

export type Role = keyof typeof roleCatalogue;

/** The roles as a tuple, for enums (zod, OpenAPI). */
export const roles = Object.keys(roleCatalogue) as [Role, ...Role[]];

export function isRole(value: string): value is Role {
  return Object.hasOwn(roleCatalogue, value);
}

/** The roles of a set in the catalogue's order, without repeats or unknown names. */
export function sortRoles(set: Iterable<string>): Role[] {
  const wanted = new Set(set);
  return roles.filter((role) => wanted.has(role));
}

/** A role in plain words: "Password administrator: can reset …". */
export function describeRole(role: Role): string {
  const { label, description } = roleCatalogue[role];
  return `${label}: ${description.charAt(0).toLowerCase()}${description.slice(1)}`;
}
