import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A tenant: a partner (the service provider) or a client (an organization it administers). */
export const organizations = pgTable(
  'organizations',
  {
    id: text().primaryKey(),
    kind: text({ enum: ['partner', 'client'] }).notNull(),
    name: text().notNull(),
    /**
     * Two-factor sign-in required of its people (a partner's staff, a client's admins):
     * whoever has no second factor is sent to set one up and can do nothing else, and a
     * partner's API tokens of such staff are refused. New partners start with it on
     * (services/accounts/partners.ts); organizations from before it existed, off.
     */
    requireTwoFactor: boolean().notNull().default(false),
    /** A client's admins get the weekly digest of partner actions (core/weekly-digest.ts) unless they turned it off. */
    weeklyDigest: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('organizations_kind_check', sql`${t.kind} in ('partner', 'client')`)],
);

export type Organization = typeof organizations.$inferSelect;
