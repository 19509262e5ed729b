import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { organizations, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import { userHasSecondFactor } from '../shared/users.ts';

/** Who changes an organization's policy: one of its owners (a partner) or global admins (a client). */
export interface PolicyActor {
  userId: string;
  orgId: string;
  /** The partner, when the organization is one (its trail is read by partner). */
  partnerId: string | null;
}

/** Whether the organization requires two-factor sign-in of its people. */
export async function twoFactorRequired(db: Db, orgId: string): Promise<boolean> {
  const [row] = await db
    .select({ required: organizations.requireTwoFactor })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  return row?.required ?? false;
}

/**
 * Turns the organization's two-factor requirement on or off, audited when it changes.
 * On: from their next request, its people without a second factor are sent to set one
 * up (api/web/shared/viewer.ts) and a partner's API tokens of such staff are refused
 * (api/auth.ts). The caller checks who may (owners, global admins) and asks for a
 * recent second factor first.
 */
export async function setTwoFactorRequired(
  deps: Pick<Deps, 'db'>,
  actor: PolicyActor,
  required: boolean,
  requestId?: string,
): Promise<{ changed: boolean }> {
  return deps.db.transaction(async (tx) => {
    const changed = await tx
      .update(organizations)
      .set({ requireTwoFactor: required })
      .where(and(eq(organizations.id, actor.orgId), sql`${organizations.requireTwoFactor} <> ${required}`))
      .returning({ id: organizations.id });
    if (changed.length === 0) return { changed: false };
    await recordAudit(tx, {
      actorUserId: actor.userId,
      partnerId: actor.partnerId,
      orgId: actor.orgId,
      action: 'organization.two_factor_policy',
      targetType: 'organization',
      targetId: actor.orgId,
      outcome: 'succeeded',
      requestId,
      detail: { required },
    });
    return { changed: true };
  });
}

/** A person of the organization and whether they have a second factor, for its security page. */
export interface MemberFactorView {
  userId: string;
  email: string;
  displayName: string;
  hasSecondFactor: boolean;
}

/** The organization's people (a partner's staff, a client's users) and who has a second factor. */
export async function membersSecondFactors(db: Db, orgId: string): Promise<MemberFactorView[]> {
  return db
    .select({
      userId: users.id,
      email: users.email,
      displayName: users.displayName,
      hasSecondFactor: userHasSecondFactor,
    })
    .from(users)
    .where(eq(users.orgId, orgId))
    .orderBy(asc(users.email));
}

/** Whether the client organization's admins get the weekly digest of partner actions. */
export async function weeklyDigestOn(db: Db, orgId: string): Promise<boolean> {
  const [row] = await db
    .select({ on: organizations.weeklyDigest })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  return row?.on ?? true;
}

/** Turns the weekly digest on or off for the organization (its global admins decide), audited when it changes. */
export async function setWeeklyDigest(
  deps: Pick<Deps, 'db'>,
  actor: PolicyActor,
  on: boolean,
  requestId?: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const changed = await tx
      .update(organizations)
      .set({ weeklyDigest: on })
      .where(and(eq(organizations.id, actor.orgId), sql`${organizations.weeklyDigest} <> ${on}`))
      .returning({ id: organizations.id });
    if (changed.length === 0) return;
    await recordAudit(tx, {
      actorUserId: actor.userId,
      partnerId: actor.partnerId,
      orgId: actor.orgId,
      action: 'organization.weekly_digest',
      targetType: 'organization',
      targetId: actor.orgId,
      outcome: 'succeeded',
      requestId,
      detail: { on },
    });
  });
}
