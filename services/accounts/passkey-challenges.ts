import { eq, lte, sql } from 'drizzle-orm';
import { PASSKEY_CHALLENGE_SECONDS, type PasskeyPurpose } from '../../core/passkeys.ts';
import type { DbOrTx } from '../../db/client.ts';
import { passkeyChallenges } from '../../db/schema/index.ts';
import { sha256Hex } from '../../lib/secrets.ts';

/**
 * Remembers a challenge just handed to a browser (db/schema/passkey-challenges.ts: keyed
 * by its SHA-256, for one purpose and — but for a passkey-alone sign-in — one user).
 * Expired ones go first: nothing else sweeps the table.
 */
export async function issuePasskeyChallenge(
  db: DbOrTx,
  challenge: string,
  purpose: PasskeyPurpose,
  userId: string | null,
): Promise<void> {
  await db.delete(passkeyChallenges).where(lte(passkeyChallenges.expiresAt, sql`now()`));
  await db.insert(passkeyChallenges).values({
    id: sha256Hex(challenge),
    purpose,
    userId,
    expiresAt: sql`now() + make_interval(secs => ${PASSKEY_CHALLENGE_SECONDS})`,
  });
}

/**
 * Takes the challenge an answer signed: deletes it, so it answers once, and says whether
 * it was live and issued for this purpose and user (`userId` null: any user, for a
 * passkey-alone sign-in). False for one never issued, used already, expired, or another's.
 */
export async function takePasskeyChallenge(
  db: DbOrTx,
  challenge: string,
  purpose: PasskeyPurpose,
  userId: string | null,
): Promise<boolean> {
  const [taken] = await db
    .delete(passkeyChallenges)
    .where(eq(passkeyChallenges.id, sha256Hex(challenge)))
    .returning({
      purpose: passkeyChallenges.purpose,
      userId: passkeyChallenges.userId,
      live: sql<boolean>`${passkeyChallenges.expiresAt} > now()`,
    });
  return taken?.live === true && taken.purpose === purpose && taken.userId === userId;
}
