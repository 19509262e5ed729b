import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { PASSKEY_NAME_CHARS } from '../../core/passkeys.ts';
import { users } from './users.ts';

/**
 * A user's passkeys (WebAuthn credentials), one row each. A passkey is a second factor
 * (services/accounts/second-factor.ts `hasSecondFactor` counts these rows with the
 * confirmed `user_factors`), and alone it signs in: its private key never leaves the
 * device; only the public key is kept here, which is no secret.
 */
export const passkeys = pgTable(
  'passkeys',
  {
    /** `pky_…` */
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    /** The credential's id as the authenticator made it, base64url. */
    credentialId: text().notNull(),
    /** The credential's public key (COSE), base64url. */
    publicKey: text().notNull(),
    /**
     * The authenticator's signature counter at its last accepted use (0 for authenticators
     * that keep none): an answer must bring a higher one (core/passkeys.ts judgeSignCount).
     */
    signCount: bigint({ mode: 'number' }).notNull().default(0),
    /** How the browser may reach the authenticator (`internal`, `usb`, `hybrid`…), a hint for the next prompt. */
    transports: text().array().notNull().default(sql`'{}'::text[]`),
    /** Its owner's name for it ("Work laptop"), shown on their passkeys page. */
    name: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    check('passkeys_name_check', sql`char_length(${t.name}) between 1 and ${sql.raw(String(PASSKEY_NAME_CHARS))}`),
    // A signing-in passkey names only its credential: this finds its owner. Unique: one
    // credential cannot be two users' (nor registered twice).
    uniqueIndex('passkeys_credential_id_idx').on(t.credentialId),
    // A user's passkeys: their page, and "does this user have a second factor".
    index('passkeys_user_idx').on(t.userId),
  ],
);

export type Passkey = typeof passkeys.$inferSelect;
