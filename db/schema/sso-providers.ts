import { sql } from 'drizzle-orm';
import { boolean, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/**
 * A partner's identity provider (OpenID Connect) for its staff's sign-in: one per partner,
 * set by its owners on the dashboard. The client secret is sealed (lib/secret-box.ts) and
 * never shown back. The issuer's discovery document is fetched when the row is saved and
 * kept here, so a sign-in does not fetch it again; saving again refreshes it.
 */
export const ssoProviders = pgTable(
  'sso_providers',
  {
    /** `sso_…` */
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    /** The issuer identifier, exactly as discovery returned it (the ID token's `iss` must equal it). */
    issuer: text().notNull(),
    clientId: text().notNull(),
    /** The client secret, sealed under the context `sso-client-secret:<id>`. */
    clientSecretSealed: text().notNull(),
    /** Staff whose address is at this domain (lower-case ASCII) sign in here. */
    emailDomain: text().notNull(),
    /** The issuer's discovery document (OpenID Provider Metadata) as fetched at the last save. */
    serverMetadata: jsonb().$type<Record<string, unknown>>().notNull(),
    /**
     * When the partner proved it holds `emailDomain` (a TXT record, core/single-sign-on.ts);
     * null until then, and again after the domain changes. Sign-in uses only proven domains.
     */
    domainVerifiedAt: timestamp({ withTimezone: true }),
    /** Off: starts and callbacks are refused; links are kept for when it is on again. */
    enabled: boolean().notNull().default(true),
    updatedBy: text().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One provider per partner (the dashboard edits "the" provider).
    uniqueIndex('sso_providers_partner_unique').on(t.partnerId),
    // The sign-in form picks the provider by the address's domain: one partner per proven
    // domain. Unproven claims may overlap, so nobody can hold a domain just by naming it.
    uniqueIndex('sso_providers_domain_unique')
      .on(sql`lower(${t.emailDomain})`)
      .where(sql`${t.domainVerifiedAt} is not null`),
  ],
);

export type SsoProvider = typeof ssoProviders.$inferSelect;
