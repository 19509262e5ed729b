import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { amendments } from './amendments.ts';
import { users } from './users.ts';

/**
 * The personal link each global admin of the client organization was emailed for a pending
 * amendment. The token is derived from LINK_SECRET (lib/secrets.ts amendmentLinkToken, as
 * for offer links: docs/adr/0002) and only its SHA-256 is kept.
 */
export const amendmentLinks = pgTable(
  'amendment_links',
  {
    /** SHA-256 of the link's token: how a link is looked up. */
    tokenHash: text().primaryKey(),
    amendmentId: text()
      .notNull()
      .references(() => amendments.id),
    /** The admin it was sent to. */
    userId: text()
      .notNull()
      .references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('amendment_links_amendment_idx').on(t.amendmentId)],
);
