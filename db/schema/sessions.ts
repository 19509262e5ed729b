import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/**
 * Browser sessions of people signed in on the client pages (and, later, the dashboard).
 * The cookie holds a random token; only its SHA-256 is kept here.
 */
export const sessions = pgTable(
  'sessions',
  {
    /** SHA-256 of the cookie's token. */
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export type Session = typeof sessions.$inferSelect;
