import { sql } from 'drizzle-orm';
import { rolesForAccess } from '../../core/access.ts';
import { AppError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { scopesAllowedFor } from '../../core/token-scopes.ts';
import type { Db } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { apiTokens, organizations, staffAccess, users } from '../../db/schema/index.ts';
import { generatePassword, hashPassword, newApiToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import { findUserByEmail } from '../shared/users.ts';

export interface CreatePartnerInput {
  name: string;
  ownerEmail: string;
  ownerName?: string | undefined;
  /**
   * Require two-factor sign-in of the partner's staff (organizations.require_two_factor):
   * on unless asked otherwise. With it on, the owner's password signs in only to set up a
   * second factor, and the owner's API token works once that is done.
   */
  requireTwoFactor?: boolean | undefined;
}

export interface CreatedPartner {
  partnerId: string;
  userId: string;
  email: string;
  /** Shown once; only its argon2id hash is stored. */
  password: string;
  /** Shown once; only its SHA-256 is stored. */
  token: string;
  requireTwoFactor: boolean;
}

/**
 * Creates a partner organization and its owner: a user with full staff access, a
 * generated password and an API token. The secrets are returned once and never stored.
 */
export async function createPartner(db: Db, input: CreatePartnerInput): Promise<CreatedPartner> {
  const partnerId = newId('organization');
  const userId = newId('user');
  const password = generatePassword();
  const token = newApiToken();
  const passwordHash = await hashPassword(password);
  const requireTwoFactor = input.requireTwoFactor ?? true;

  await db
    .transaction(async (tx) => {
      const taken = await findUserByEmail(tx, input.ownerEmail, { id: users.id });
      if (taken) throw new AppError('CONFLICT', 'A user with this email already exists');
      await tx.insert(organizations).values({ id: partnerId, kind: 'partner', name: input.name, requireTwoFactor });
      await tx.insert(users).values({
        id: userId,
        orgId: partnerId,
        email: input.ownerEmail,
        displayName: input.ownerName ?? input.ownerEmail,
        passwordHash,
      });
      await tx.insert(staffAccess).values({ userId, partnerId, roles: rolesForAccess('full'), isOwner: true });
      // An ordinary token: all of its holder's scopes, the default lifetime (the column's default).
      await tx.insert(apiTokens).values({
        id: newId('apiToken'),
        userId,
        orgId: partnerId,
        tokenHash: sha256Hex(token),
        label: 'owner token',
        scopes: scopesAllowedFor({ isOwner: true, roles: rolesForAccess('full') }),
      });
      await recordAudit(tx, {
        actorUserId: null,
        partnerId,
        orgId: partnerId,
        action: 'partner.create',
        targetType: 'organization',
        targetId: partnerId,
        outcome: 'succeeded',
        detail: { ownerUserId: userId, requireTwoFactor },
      });
    })
    .catch((error: unknown) => {
      throw isUniqueViolation(error) ? new AppError('CONFLICT', 'A user with this email already exists') : error;
    });

  return { partnerId, userId, email: input.ownerEmail, password, token, requireTwoFactor };
}

/** Whether any partner exists yet — true stays true, so it is asked until then only. */
const somePartner = new WeakMap<Db, true>();
export async function hasAnyPartner(db: Db): Promise<boolean> {
  if (somePartner.has(db)) return true;
  const [row] = await db.execute<{ some: boolean }>(
    sql`select exists (select 1 from organizations where kind = 'partner') as some`,
  );
  if (row?.some) somePartner.set(db, true);
  return row?.some ?? false;
}
