import { and, eq, isNull, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import type { Tx } from '../../db/client.ts';
import {
  apiTokens,
  passkeyChallenges,
  passkeys,
  recoveryCodes,
  ssoLinks,
  staffAccess,
  userFactors,
  users,
} from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { endAllSessions } from './sessions.ts';
import { assertOwner } from './staff.ts';

/**
 * What a user row holds as its password hash when no password can match it. Verifying
 * against it fails after the time a real verification takes (lib/secrets.ts), so signing
 * in as a removed member answers exactly like a wrong password.
 */
const NO_PASSWORD = '!';

/**
 * Removes a staff member from the partner. Owners only; another partner's user is
 * NOT_FOUND; the last owner (oneself included) is LAST_OWNER. Nothing changes on a refusal.
 *
 * "Removed" is: no `staff_access` row, and no way to sign in — the password hash replaced
 * by one nothing matches, sessions and pending sign-ins ended, API tokens revoked, second
 * factors, recovery codes, passkeys and single sign-on links deleted. The user row stays,
 * so the audit trail still names who did what. Operations they requested and that are still
 * queued are rejected when they run: the worker reads the requester's staff access then
 * (services/operations/runner.ts), and there is none. Their address can be invited to this
 * partner again; accepting reuses the same user row (services/accounts/staff-invitations.ts).
 */
export async function removeStaff(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  userId: string,
  requestId?: string,
): Promise<void> {
  assertOwner(principal);
  requireId('user', userId, 'staff member');
  await deps.db.transaction(async (tx) => {
    // Every staff row of the partner, locked: two owners removing each other at the same
    // moment are taken one after the other, and the second sees the first one gone.
    const staff = await tx
      .select({ userId: staffAccess.userId, isOwner: staffAccess.isOwner })
      .from(staffAccess)
      .where(eq(staffAccess.partnerId, principal.partnerId))
      .for('update');
    const target = staff.find((s) => s.userId === userId);
    if (!target) throw new AppError('NOT_FOUND', 'No such staff member');
    if (target.isOwner && staff.filter((s) => s.isOwner).length === 1) {
      throw new AppError('LAST_OWNER', 'This is the partner’s last owner: make someone else an owner first');
    }
    await tx
      .delete(staffAccess)
      .where(and(eq(staffAccess.userId, userId), eq(staffAccess.partnerId, principal.partnerId)));
    await tx.update(users).set({ passwordHash: NO_PASSWORD, mustChangePassword: false }).where(eq(users.id, userId));
    const revoked = await endEveryWayIn(tx, userId);
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'staff.remove',
      targetType: 'user',
      targetId: userId,
      outcome: 'succeeded',
      requestId,
      detail: { wasOwner: target.isOwner, tokensRevoked: revoked },
    });
  });
}

/**
 * Ends every way a user gets in but the password: sessions and pending sign-ins, API
 * tokens (revoked), second factors, recovery codes, passkeys and single sign-on links.
 * Removal calls it; so does rejoining by invitation, so nothing that slipped in at the
 * instant of a removal comes back to whoever holds the address now. Returns how many
 * tokens were revoked.
 */
export async function endEveryWayIn(tx: Tx, userId: string): Promise<number> {
  await endAllSessions(tx, userId);
  const revoked = await tx
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  await tx.delete(passkeyChallenges).where(eq(passkeyChallenges.userId, userId));
  await tx.delete(passkeys).where(eq(passkeys.userId, userId));
  await tx.delete(ssoLinks).where(eq(ssoLinks.userId, userId));
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await tx.delete(userFactors).where(eq(userFactors.userId, userId));
  return revoked.length;
}
