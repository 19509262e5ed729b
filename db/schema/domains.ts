import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';

/**
 * A domain of a client organization. Verified by a DNS TXT record at the domain,
 * `mandate-verification=<token>`; a verified domain also covers its subdomains.
 */
export const domains = pgTable(
  'domains',
  {
    id: text().primaryKey(),
    orgId: text()
      .notNull()
      .references(() => organizations.id),
    /** Lower-case ASCII (IDNs in punycode). */
    name: text().notNull(),
    verificationToken: text().notNull(),
    state: text({ enum: ['pending', 'verified', 'failed'] })
      .notNull()
      .default('pending'),
    verifiedAt: timestamp({ withTimezone: true }),
    lastCheckedAt: timestamp({ withTimezone: true }),
    /** What the last lookup found instead (TXT records, or the DNS error). */
    lastFound: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('domains_org_name_unique').on(t.orgId, t.name),
    check('domains_state_check', sql`${t.state} in ('pending', 'verified', 'failed')`),
  ],
);

export type Domain = typeof domains.$inferSelect;
