import { index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { ssoProviders } from './sso-providers.ts';
import { users } from './users.ts';

/**
 * Which account an identity at a provider signs in to: made at the first sign-in through
 * single sign-on (only when the provider said the address was verified), then found by
 * issuer and subject — never again by address, which a provider may let change.
 */
export const ssoLinks = pgTable(
  'sso_links',
  {
    /** The provider (and so the partner) the link was made through. */
    providerId: text()
      .notNull()
      .references(() => ssoProviders.id),
    /** The ID token's `iss` at linking: a provider given another issuer does not reuse the link. */
    issuer: text().notNull(),
    /** The ID token's `sub`: the provider's stable id of the person. */
    subject: text().notNull(),
    userId: text()
      .notNull()
      .references(() => users.id),
    linkedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastSignInAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The lookup at every callback: issuer and subject name one person.
    primaryKey({ name: 'sso_links_pkey', columns: [t.issuer, t.subject] }),
    // A user's links (an owner removing a staff member, the account page).
    index('sso_links_user_idx').on(t.userId),
  ],
);

export type SsoLink = typeof ssoLinks.$inferSelect;
