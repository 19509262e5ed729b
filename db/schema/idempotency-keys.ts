import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * `Idempotency-Key` of partner API POSTs: the first request with a key claims the row,
 * its successful response is stored, and a repeat with the same key and body gets that
 * response again instead of a second effect. Kept 24 hours.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: text().notNull(),
    key: text().notNull(),
    /** SHA-256 of method, path, content type and body. */
    requestHash: text().notNull(),
    /** Null while the first request is still running. */
    status: integer(),
    contentType: text(),
    body: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
