import { boolean, check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { rolesInCatalogue } from './role-sets.ts';
import { users } from './users.ts';

/**
 * What a partner user may do in the clients the partner supports ("assign administrative
 * access to companies you support"). A role set from the catalogue (core/roles.ts); an
 * empty set means no access. Owners manage the partner itself (staff, offers, tokens).
 */
export const staffAccess = pgTable(
  'staff_access',
  {
    userId: text()
      .primaryKey()
      .references(() => users.id),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    roles: text().array().notNull().default([]),
    isOwner: boolean().notNull().default(false),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('staff_access_partner_idx').on(t.partnerId),
    check('staff_access_roles_check', rolesInCatalogue(t.roles)),
  ],
);

export type StaffAccess = typeof staffAccess.$inferSelect;
