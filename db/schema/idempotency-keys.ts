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
    /**
     * The request id of the request holding the claim: every change a request makes is
     * audited with its request id in the change's own transaction, so whether an abandoned
     * claim's request took effect can be told (api/idempotency.ts, ADR 19).
     */
    requestId: text(),
    /** The claim's lease, renewed while its request runs: past it, the claim was abandoned. */
    claimedUntil: timestamp({ withTimezone: true }),
    contentType: text(),
    body: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
