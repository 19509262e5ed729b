import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { signInMethods } from '../../core/sign-in-methods.ts';
import { users } from './users.ts';

/**
 * A sign-in half done: the password was right and the second factor is still to come.
 * Not a session — nothing reads it but the second step's page — and short-lived
 * (core/second-factor.ts SIGN_IN_CHALLENGE_SECONDS). The browser holds a random token in
 * a cookie of its own; only its SHA-256 is kept. Where to go afterwards travels with the
 * page (`next`), not here: it may hold an offer or amendment link's token, which the
 * database keeps only hashed. A passkey sign-in will keep its WebAuthn challenge here.
 */
export const signInChallenges = pgTable(
  'sign_in_challenges',
  {
    /** SHA-256 of the cookie's token. */
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    /** How the first step was passed (a password, single sign-on): the session records it. */
    method: text({ enum: signInMethods }).notNull().default('password'),
  },
  // A user's challenges, to clear the expired ones at the next sign-in.
  (t) => [index('sign_in_challenges_user_idx').on(t.userId)],
);
