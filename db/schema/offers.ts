import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { rolesInCatalogue } from './role-sets.ts';
import { users } from './users.ts';

/**
 * What a partner asks for: roles, duration, auto-extend, and a reusable link any number
 * of clients may accept. Only the SHA-256 of the link's token is kept.
 */
export const offers = pgTable(
  'offers',
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    name: text().notNull(),
    /** The roles the client must grant to accept (at least one). */
    roles: text().array().notNull(),
    /** Roles the client may leave out when accepting (none in common with `roles`). */
    optionalRoles: text().array().notNull().default([]),
    durationDays: integer().notNull(),
    autoExtend: boolean().notNull(),
    tokenHash: text().notNull(),
    /** After this the link, and every campaign email of the offer, can no longer be accepted. */
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    revokedAt: timestamp({ withTimezone: true }),
    createdBy: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('offers_token_hash_unique').on(t.tokenHash),
    // Target of the delegations' (offer_id, partner_id) foreign key.
    unique('offers_id_partner_unique').on(t.id, t.partnerId),
    index('offers_partner_idx').on(t.partnerId, t.id),
    check('offers_duration_check', sql`${t.durationDays} between 1 and 730`),
    check(
      'offers_auto_extend_check',
      sql`not (${t.autoExtend} and 'global_admin' = any(${t.roles} || ${t.optionalRoles}))`,
    ),
    check(
      'offers_roles_check',
      sql`${rolesInCatalogue(t.roles)} and ${rolesInCatalogue(t.optionalRoles)} and cardinality(${t.roles}) >= 1 and not (${t.roles} && ${t.optionalRoles})`,
    ),
  ],
);

export type Offer = typeof offers.$inferSelect;
