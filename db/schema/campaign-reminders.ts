import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns.ts';
import { users } from './users.ts';

/**
 * One "remind everyone still offered after N days" of a campaign, numbered 1, 2… per
 * campaign. The number is what makes it once-only: a second click that names the same
 * number finds it taken, and each recipient's reminder email is recorded under
 * `campaign-reminder.<delegation>.<number>` (the outbox's dedupe key), so a retried job
 * emails nobody twice. The emails are written by the `remind-campaign` job, in batches.
 */
export const campaignReminders = pgTable(
  'campaign_reminders',
  {
    campaignId: text()
      .notNull()
      .references(() => campaigns.id),
    number: integer().notNull(),
    afterDays: integer().notNull(),
    /** Recipients offered before this (the click's moment less `after_days`) and still offered are reminded. */
    offeredBefore: timestamp({ withTimezone: true }).notNull(),
    /** How many were still offered that long at the click. */
    recipients: integer().notNull(),
    createdBy: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Set once every reminder email is in the outbox; until then the reconciler runs its job again. */
    recordedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.number] }),
    check('campaign_reminders_number_check', sql`${t.number} >= 1`),
    // The reconciler's sweep of reminders whose emails are not all recorded yet.
    index('campaign_reminders_unrecorded_idx').on(t.createdAt).where(sql`${t.recordedAt} is null`),
  ],
);
