import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/**
 * The one-time recovery codes handed out when a user turns on two-factor sign-in, for
 * when the phone is lost. Only each code's SHA-256 is kept (100 random bits: see
 * lib/secrets.ts newRecoveryCode); a used code keeps its row, so a second use can be told
 * apart from a wrong code and audited as such.
 */
export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    /** SHA-256 of the canonical code (lower case, no dashes). */
    codeHash: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    usedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // A user's codes: counting the ones left, replacing them all at a new enrolment.
  (t) => [index('recovery_codes_user_idx').on(t.userId)],
);
