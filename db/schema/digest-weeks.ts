import { date, pgTable, timestamp } from 'drizzle-orm/pg-core';

/**
 * Weeks whose digests have been recorded (services/maintenance/weekly-digest.ts): one row
 * per week, taken by the first pass after the week ended, so each week is composed once —
 * and every later pass finds it by its key and does nothing.
 */
export const digestWeeks = pgTable('digest_weeks', {
  /** The Monday (UTC) the week starts. */
  weekStart: date({ mode: 'string' }).primaryKey(),
  recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
