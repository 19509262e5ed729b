import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { rolesInCatalogue } from './role-sets.ts';
import { users } from './users.ts';

/**
 * An owner's invitation of an address to the partner's staff. Nothing is created until the
 * person behind the address follows the emailed link and chooses a password, so adding
 * staff neither hands out credentials nor tells the owner whether the address has an
 * account elsewhere: such an address gets a row too (its link is never sent — it is told
 * by email that it cannot join), and the owner's list shows both alike.
 *
 * The link's token is derived from LINK_SECRET and the id (docs/adr/0002); only its
 * SHA-256 is kept.
 */
export const staffInvitations = pgTable(
  'staff_invitations',
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    email: text().notNull(),
    displayName: text().notNull(),
    roles: text().array().notNull().default([]),
    tokenHash: text().notNull(),
    invitedBy: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    acceptedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    // The link resolves by this digest.
    uniqueIndex('staff_invitations_token_hash_unique').on(t.tokenHash),
    // At most one live invitation per partner and address: a new one replaces it.
    uniqueIndex('staff_invitations_pending_unique')
      .on(t.partnerId, sql`lower(${t.email})`)
      .where(sql`${t.acceptedAt} is null and ${t.revokedAt} is null`),
    // The owner's list of pending invitations.
    index('staff_invitations_partner_idx').on(t.partnerId, t.createdAt),
    check('staff_invitations_roles_check', rolesInCatalogue(t.roles)),
  ],
);

export type StaffInvitation = typeof staffInvitations.$inferSelect;
