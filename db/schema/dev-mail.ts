import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The development mailbox: every message "sent" while SMTP_URL is unset lands here
 * instead of leaving the machine (lib/dev-mail.ts), and /dev/mail shows it. A table
 * rather than memory so that the API and workers in separate processes share one inbox.
 */
export const devMail = pgTable('dev_mail', {
  // A plain sequence: these rows never leave the machine, /dev/mail/42 is easy to read, and
  // it orders the list (newest first) without an index of its own.
  id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  toAddress: text().notNull(),
  fromAddress: text().notNull(),
  subject: text().notNull(),
  textBody: text().notNull(),
  htmlBody: text().notNull(),
  messageId: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type DevMail = typeof devMail.$inferSelect;
