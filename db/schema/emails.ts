import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Notification emails (acceptance, termination, expiry notices…), written in the same
 * transaction as the change they tell about, then sent by the `send-email` job. The row
 * is the outbox and the record of what was said to whom. `dedupeKey` makes writing the
 * same notification twice a no-op.
 */
export const emails = pgTable(
  'emails',
  {
    id: text().primaryKey(),
    dedupeKey: text().notNull(),
    kind: text().notNull(),
    delegationId: text(),
    toEmail: text().notNull(),
    subject: text().notNull(),
    textBody: text().notNull(),
    htmlBody: text().notNull(),
    messageId: text().notNull(),
    state: text({ enum: ['pending', 'sent', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer().notNull().default(0),
    /** While in the future, one worker holds the send; another run must not send it too. */
    leaseUntil: timestamp({ withTimezone: true }),
    lastError: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex('emails_dedupe_unique').on(t.dedupeKey),
    index('emails_delegation_idx').on(t.delegationId),
    index('emails_pending_idx').on(t.createdAt).where(sql`${t.state} = 'pending'`),
    check('emails_state_check', sql`${t.state} in ('pending', 'sent', 'failed')`),
  ],
);

export type Email = typeof emails.$inferSelect;
