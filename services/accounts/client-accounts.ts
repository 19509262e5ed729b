import { sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Db } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { organizations, users } from '../../db/schema/index.ts';
import { hashPassword, verifyPassword } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import { findUserByEmail, userHasSecondFactor } from '../shared/users.ts';
import { endAllSessions } from './sessions.ts';

// Verifying against this when the address is unknown keeps both answers equally slow.
const dummyHash = hashPassword('not a real password, only here to spend the same time');

/**
 * The account with this address (its id, or null) and whether `password` is its password.
 * An unknown address costs the same verification, against a dummy hash, so the time of the
 * answer does not tell whether the address has an account.
 */
export async function matchPassword(
  db: Db,
  email: string,
  password: string,
): Promise<{ userId: string | null; passwordOk: boolean; secondFactor: boolean }> {
  // Whether a second factor is on comes with the hash, in the same statement: a query more
  // only after a right password would tell a right one from a wrong one by its time.
  const user = await findUserByEmail(db, email, {
    id: users.id,
    passwordHash: users.passwordHash,
    secondFactor: userHasSecondFactor,
  });
  const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), password);
  return { userId: user?.id ?? null, passwordOk: ok && user !== undefined, secondFactor: user?.secondFactor === true };
}

/** The user with this email and password, or null: one answer for every kind of mismatch. */
export async function checkCredentials(db: Db, email: string, password: string): Promise<{ userId: string } | null> {
  const { userId, passwordOk } = await matchPassword(db, email, password);
  return passwordOk && userId ? { userId } : null;
}

export interface NewClientOrganization {
  orgName: string;
  adminName: string;
  email: string;
  password: string;
}

/**
 * Creates a client organization and its first global administrator — the path for a
 * recipient whose organization is not in Mandate yet.
 */
export async function createClientOrganization(
  db: Db,
  input: Omit<NewClientOrganization, 'password'> & ({ password: string } | { passwordHash: string }),
): Promise<{ userId: string; orgId: string }> {
  const orgId = newId('organization');
  const userId = newId('user');
  const passwordHash = 'passwordHash' in input ? input.passwordHash : await hashPassword(input.password);
  const taken = () =>
    new AppError('CONFLICT', 'An account with this email already exists: sign in instead', {
      issues: [{ path: 'email', message: 'already has an account' }],
    });
  await db
    .transaction(async (tx) => {
      const existing = await findUserByEmail(tx, input.email, { id: users.id });
      if (existing) throw taken();
      await tx.insert(organizations).values({ id: orgId, kind: 'client', name: input.orgName });
      await tx.insert(users).values({
        id: userId,
        orgId,
        email: input.email,
        displayName: input.adminName,
        passwordHash,
        isGlobalAdmin: true,
      });
      await recordAudit(tx, {
        actorUserId: userId,
        partnerId: null,
        orgId,
        action: 'organization.create',
        targetType: 'organization',
        targetId: orgId,
        outcome: 'succeeded',
      });
    })
    .catch((error: unknown) => {
      // Two sign-ups with one address at once: the unique index decides.
      throw isUniqueViolation(error) ? taken() : error;
    });
  return { userId, orgId };
}

/**
 * Sets a user's own new password, which ends the temporary one: the flag is cleared and
 * every other session of the user ends.
 */
export async function changeOwnPassword(
  db: Db,
  userId: string,
  password: string,
  keepSessionId: string,
): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, mustChangePassword: false }).where(sql`${users.id} = ${userId}`);
    await endAllSessions(tx, userId, { except: keepSessionId });
  });
}
