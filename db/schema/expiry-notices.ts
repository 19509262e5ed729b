import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per expiry notice sent (or deliberately skipped): at most one per delegation,
 * threshold and end date. A new end date (after an extension) starts a new series.
 */
export const expiryNotices = pgTable(
  'expiry_notices',
  {
    delegationId: text().notNull(),
    thresholdDays: integer().notNull(),
    endsAt: timestamp({ withTimezone: true }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.delegationId, t.thresholdDays, t.endsAt] }),
    // Retention prunes the claims of end dates long past (services/maintenance/retention.ts).
    index('expiry_notices_ends_at_idx').on(t.endsAt),
  ],
);
