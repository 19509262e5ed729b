import { foreignKey, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { RawRecipient, RejectedRecipient } from '../../core/recipients.ts';
import { campaigns } from './campaigns.ts';
import { offers } from './offers.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/**
 * A recipient list uploaded on the dashboard and not sent yet: kept between the upload,
 * whose page lists the rows that would be refused, and the "Send to N recipients" that
 * creates the campaign from these very rows (docs/adr/0028). Its uploader's only; kept an
 * hour, then purged by the reconciler. Sent, it names its campaign and drops its rows.
 */
export const campaignUploads = pgTable(
  'campaign_uploads',
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    offerId: text().notNull(),
    /** The campaign's name as typed; null for the default name, chosen when it is sent. */
    name: text(),
    fileName: text(),
    /** The rows as read from the file, before screening: what the campaign is created from. */
    recipients: jsonb().$type<RawRecipient[]>().notNull(),
    /** Rows that would be sent, and those refused (row number, address, reason), when uploaded. */
    valid: integer().notNull(),
    rejected: jsonb().$type<RejectedRecipient[]>().notNull(),
    createdBy: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    /** Set when sent: the campaign created from it. */
    campaignId: text().references(() => campaigns.id),
  },
  (t) => [
    // The offer must be this partner's, as for campaigns.
    foreignKey({ columns: [t.offerId, t.partnerId], foreignColumns: [offers.id, offers.partnerId] }),
    // The reconciler's purge of uploads past their time.
    index('campaign_uploads_expires_idx').on(t.expiresAt),
  ],
);

export type CampaignUpload = typeof campaignUploads.$inferSelect;
