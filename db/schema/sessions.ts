import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { signInMethods } from '../../core/sign-in-methods.ts';
import { users } from './users.ts';

/**
 * Browser sessions of people signed in on the pages and the dashboard. The cookie holds a
 * random token; only its SHA-256 is kept here. A session is live while it is younger than
 * SESSION_MAX_HOURS and was seen within SESSION_IDLE_MINUTES, judged at each request by
 * the database clock (services/accounts/sessions.ts): the limits are settings, not stored
 * per row, so a shorter setting also ends sessions already open.
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
    /** The last request seen on it, to the minute (written at most once a minute). */
    lastSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Where it was started from, as the rate limits see it (an IPv6 address as its /64); shown to its user. */
    clientAddress: text(),
    /** The browser's User-Agent at the start, cut to 200 characters; shown to its user. */
    userAgent: text(),
    /** How it was signed in (core/sign-in-methods.ts): shown to its user, recorded in the trail. */
    signInMethod: text({ enum: signInMethods }).notNull().default('password'),
    /**
     * When this session last passed a second factor (at sign-in, or again for a step-up);
     * null when it never did. Actions that need a recent one read it by the database clock.
     */
    secondFactorAt: timestamp({ withTimezone: true }),
  },
  // The sessions page and ending all of a user's sessions find them by user.
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export type Session = typeof sessions.$inferSelect;
