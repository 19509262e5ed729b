import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { factorKinds } from '../../core/second-factor.ts';
import { users } from './users.ts';

const kindList = sql.raw(factorKinds.map((k) => `'${k}'`).join(', '));

/**
 * A user's second factors, one row each: today an authenticator app (TOTP); passkeys will
 * be rows of another kind (with their own columns), asked for at the same sign-in step.
 * A row whose `confirmedAt` is null is an enrolment waiting for its first code: it is not
 * asked for at sign-in.
 */
export const userFactors = pgTable(
  'user_factors',
  {
    /** `fac_…` */
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    kind: text({ enum: factorKinds }).notNull(),
    /**
     * TOTP: the shared secret, sealed with AES-256-GCM under a key derived from
     * LINK_SECRET (lib/secret-box.ts) — never in plain text.
     */
    secretSealed: text(),
    /**
     * TOTP: the last time step (unix time / 30 s) a code was accepted at. A code of this
     * step or an earlier one is refused, so a code works once.
     */
    lastUsedStep: bigint({ mode: 'number' }),
    lastUsedAt: timestamp({ withTimezone: true }),
    confirmedAt: timestamp({ withTimezone: true }),
    /**
     * A pending enrolment: the session (its id) that started it — the only one that sees
     * its secret and may confirm it, so another session of the user cannot copy the key.
     */
    pendingSessionId: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('user_factors_kind_check', sql`${t.kind} in (${kindList})`),
    check('user_factors_totp_secret_check', sql`${t.kind} <> 'totp' or ${t.secretSealed} is not null`),
    // One authenticator app per user (a second enrolment replaces a pending one); also
    // the lookup at every sign-in of "does this user have a second factor".
    uniqueIndex('user_factors_one_totp').on(t.userId).where(sql`${t.kind} = 'totp'`),
  ],
);

export type UserFactor = typeof userFactors.$inferSelect;
