import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { tokenScopes } from '../../core/token-scopes.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

const scopeList = sql.raw(`array[${tokenScopes.map((s) => `'${s}'`).join(', ')}]::text[]`);

/** Bearer tokens of the partner API. Only the SHA-256 of a token is kept; it is shown once. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    orgId: text()
      .notNull()
      .references(() => organizations.id),
    tokenHash: text().notNull(),
    label: text().notNull(),
    /** What the token may be used for (core/token-scopes.ts); at least one. */
    scopes: text().array().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Every token ends; the default is the default lifetime (core/token-scopes.ts). */
    expiresAt: timestamp({ withTimezone: true }).notNull().default(sql`now() + interval '90 days'`),
    /** Moves at most once a minute (services/shared/principals.ts). */
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    /**
     * The token that made this one through the API (null: made on the dashboard or at the
     * partner's creation). It opens nothing once that token is revoked, and makes no tokens
     * itself — so one revocation reaches every copy a leaked token made.
     */
    parentTokenId: text().references((): AnyPgColumn => apiTokens.id),
  },
  (t) => [
    uniqueIndex('api_tokens_hash_unique').on(t.tokenHash),
    index('api_tokens_user_idx').on(t.userId),
    // The owners' listing of every token of the partner (GET /v1/tokens?all=true).
    index('api_tokens_org_idx').on(t.orgId),
    check('api_tokens_scopes_check', sql`cardinality(${t.scopes}) > 0 and ${t.scopes} <@ ${scopeList}`),
  ],
);

export type ApiToken = typeof apiTokens.$inferSelect;
