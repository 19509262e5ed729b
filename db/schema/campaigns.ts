import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { RejectedRecipient } from '../../core/recipients.ts';
import { offers } from './offers.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/** One offer sent by email to many recipients; each recipient is a delegation row. */
export const campaigns = pgTable(
  'campaigns',
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    offerId: text().notNull(),
    name: text().notNull(),
    /** Recipients accepted for sending (rejected rows not counted). */
    total: integer().notNull(),
    rejectedCount: integer().notNull().default(0),
    /** Rows refused at submission, as reported in the 202 response. */
    rejected: jsonb().$type<RejectedRecipient[]>().notNull().default([]),
    createdBy: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /**
     * When its last recipient left `invited` (sent, failed for good, or ended): set once,
     * with the `campaign.completed` webhook (services/campaigns/completion.ts).
     */
    completedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index('campaigns_partner_idx').on(t.partnerId, t.id),
    index('campaigns_incomplete_idx').on(t.createdAt).where(sql`${t.completedAt} is null`),
    // The offer must be this partner's, as for delegations.
    foreignKey({ columns: [t.offerId, t.partnerId], foreignColumns: [offers.id, offers.partnerId] }),
  ],
);

export type Campaign = typeof campaigns.$inferSelect;
