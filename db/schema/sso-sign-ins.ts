import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { ssoProviders } from './sso-providers.ts';

/**
 * A single sign-on under way: the browser went to the identity provider and has not come
 * back yet. Keyed by the SHA-256 of a random token in a cookie of its own, so only the
 * browser that started it can finish it; what the callback must check (state, nonce, the
 * PKCE verifier) stays here, never in the browser. Used once (`usedAt`), short-lived
 * (core/single-sign-on.ts), kept a day after it expires so a replayed callback can still
 * be told apart from an unknown one and recorded.
 */
export const ssoSignIns = pgTable(
  'sso_sign_ins',
  {
    /** SHA-256 of the cookie's token. */
    id: text().primaryKey(),
    providerId: text()
      .notNull()
      .references(() => ssoProviders.id),
    state: text().notNull(),
    nonce: text().notNull(),
    /**
     * The PKCE code verifier and where to go afterwards (a same-site path, which may hold
     * an offer link's token — kept only hashed elsewhere), sealed together as JSON under the
     * context `sso-sign-in:<id>` (lib/secret-box.ts).
     */
    sealed: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    usedAt: timestamp({ withTimezone: true }),
  },
  // The sweep of old rows at each start.
  (t) => [index('sso_sign_ins_expires_idx').on(t.expiresAt)],
);
