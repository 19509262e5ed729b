import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A tenant: a partner (the service provider) or a client (an organization it administers). */
export const organizations = pgTable(
  'organizations',
  {
    id: text().primaryKey(),
    kind: text({ enum: ['partner', 'client'] }).notNull(),
    name: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('organizations_kind_check', sql`${t.kind} in ('partner', 'client')`)],
);

export type Organization = typeof organizations.$inferSelect;
