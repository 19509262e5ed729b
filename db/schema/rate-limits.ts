import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Rate-limit counters when the queues run on PostgreSQL (no Redis): the shape
 * rate-limiter-flexible's Drizzle store expects — a key, the points used, when they reset.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text().primaryKey(),
  points: integer().notNull().default(0),
  expire: timestamp({ withTimezone: true }),
});
