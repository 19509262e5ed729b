import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { passkeyPurposes } from '../../core/passkeys.ts';
import { users } from './users.ts';

const purposeList = sql.raw(passkeyPurposes.map((p) => `'${p}'`).join(', '));

/**
 * WebAuthn challenges handed to a browser and not yet answered. The row is keyed by the
 * SHA-256 of the challenge itself, which comes back inside the signed answer
 * (clientDataJSON): no cookie is needed to find it, and the answer is the proof that it
 * was this challenge that was signed. Taking the row deletes it (single use); it binds the
 * purpose, and — for every purpose but a passkey-alone sign-in — the user.
 * Short-lived (core/passkeys.ts PASSKEY_CHALLENGE_SECONDS); expired rows are swept when
 * new ones are made.
 */
export const passkeyChallenges = pgTable(
  'passkey_challenges',
  {
    /** SHA-256 (hex) of the challenge as sent (base64url). */
    id: text().primaryKey(),
    purpose: text({ enum: passkeyPurposes }).notNull(),
    /** Whose: null only for a passkey-alone sign-in, where the answer says who. */
    userId: text().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    check('passkey_challenges_purpose_check', sql`${t.purpose} in (${purposeList})`),
    check('passkey_challenges_user_check', sql`(${t.purpose} = 'sign_in') = (${t.userId} is null)`),
    // The sweep of expired challenges at each new one.
    index('passkey_challenges_expires_idx').on(t.expiresAt),
  ],
);
