import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { DerivedLinks } from '../../core/emails/derived-links.ts';

/**
 * Notification emails (acceptance, termination, expiry notices…), written in the same
 * transaction as the change they tell about, then sent by the `send-email` job. The row
 * is the outbox and the record of what was said to whom. `dedupeKey` makes writing the
 * same notification twice a no-op.
 *
 * Links with a key (the end link, an amendment's personal link) are not in the bodies: each
 * is a placeholder there, and `links` says what it stands for; the worker derives the URL
 * from LINK_SECRET as it sends (services/mail/derived-links.ts), so a dump holds no key.
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
    /** Placeholder in the bodies → the link it stands for, derived at send time. */
    links: jsonb().$type<DerivedLinks>().notNull().default({}),
    messageId: text().notNull(),
    state: text({ enum: ['pending', 'sent', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer().notNull().default(0),
    /** While in the future, one worker holds the send; another run must not send it too. */
    leaseUntil: timestamp({ withTimezone: true }),
    /**
     * Set, in its own commit, just before the end of this email's data goes to the SMTP
     * server, and cleared with the outcome: while set, the server may have the message
     * without Mandate knowing. Only a claim that finds it set counts an interrupted send —
     * a lease alone says the row was claimed, not that anything reached the server. At most
     * MAIL_UNCONFIRMED_MAX emails of a process (offers included) carry it at once (lib/mailer.ts).
     */
    sendInDoubt: boolean().notNull().default(false),
    /**
     * Sends that may or may not have reached the SMTP server (the attempt was in doubt and
     * no outcome came). At the cap it is not sent again; see docs/adr/0005.
     */
    uncertainSends: integer().notNull().default(0),
    lastError: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex('emails_dedupe_unique').on(t.dedupeKey),
    index('emails_delegation_idx').on(t.delegationId),
    index('emails_pending_idx').on(t.createdAt).where(sql`${t.state} = 'pending'`),
    // Retention prunes by age (services/maintenance/retention.ts): rows arrive in time order, so a
    // BRIN index finds the old ones at almost no cost to every insert.
    index('emails_created_brin').using('brin', t.createdAt),
    check('emails_state_check', sql`${t.state} in ('pending', 'sent', 'failed')`),
  ],
);

export type Email = typeof emails.$inferSelect;
