import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';

/** A person who signs in. Belongs to exactly one organization. */
export const users = pgTable(
  'users',
  {
    id: text().primaryKey(),
    orgId: text()
      .notNull()
      .references(() => organizations.id),
    email: text().notNull(),
    displayName: text().notNull(),
    /** argon2id; never the password itself. */
    passwordHash: text().notNull(),
    /** Global administrator of its own (client) organization. */
    isGlobalAdmin: boolean().notNull().default(false),
    /** Set for temporary passwords: the user must choose a new one at the next sign-in. */
    mustChangePassword: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Sign-in is by email across all organizations, so an address names one user.
    uniqueIndex('users_email_unique').on(sql`lower(${t.email})`),
    index('users_org_idx').on(t.orgId),
  ],
);

export type User = typeof users.$inferSelect;
