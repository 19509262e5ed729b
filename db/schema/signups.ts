import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * An organization waiting for its admin to confirm the email address: nothing is
 * created until the link sent to that address is used, so nobody can claim someone
 * else's address (or learn that it already has an account).
 */
export const signups = pgTable(
  'signups',
  {
    /** SHA-256 of the token in the confirmation link. */
    id: text().primaryKey(),
    email: text().notNull(),
    orgName: text().notNull(),
    adminName: text().notNull(),
    /** argon2id of the chosen password. */
    passwordHash: text().notNull(),
    /** Where to continue after confirming (the offer page the signup started from). */
    returnTo: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    usedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index('signups_email_idx').on(t.email)],
);
