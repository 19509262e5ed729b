import { and, asc, eq, sql } from 'drizzle-orm';
import { type StaffAccessLevel, staffPresetAccess, staffRolesFrom } from '../../core/access.ts';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import { staffAccess, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { endAllSessions } from './sessions.ts';

export function assertOwner(principal: PartnerPrincipal): void {
  if (!principal.isOwner) throw new AppError('NOT_AUTHORIZED', "Only the partner's owners manage staff");
}

export interface StaffView {
  userId: string;
  email: string;
  displayName: string;
  /** What the staff member may do in the clients the partner supports (none: nothing). */
  roles: Role[];
  /** The preset the roles are exactly, when they are one. */
  access?: StaffAccessLevel;
  isOwner: boolean;
}

/** What a request may say of a staff member's access: a preset, or the roles. */
export interface StaffRolesInput {
  access?: StaffAccessLevel | undefined;
  roles?: Role[] | undefined;
}

export function rolesOrThrow(input: StaffRolesInput): Role[] {
  const asked = staffRolesFrom(input);
  if ('issues' in asked) {
    throw new AppError('VALIDATION_FAILED', 'The staff access is not valid', { issues: asked.issues });
  }
  return asked.roles;
}

/** Changes what a staff member may do in client organizations. Takes effect at once, also for queued operations. */
export async function setStaffAccess(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  userId: string,
  input: StaffRolesInput,
  requestId?: string,
): Promise<StaffView> {
  assertOwner(principal);
  const roles = rolesOrThrow(input);
  requireId('user', userId, 'staff member');
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(staffAccess)
      .set({ roles, updatedAt: sql`now()` })
      .where(and(eq(staffAccess.userId, userId), eq(staffAccess.partnerId, principal.partnerId)))
      .returning();
    if (!row) throw new AppError('NOT_FOUND', 'No such staff member');
    await endAllSessions(tx, userId); // signed in on the old access: sign in again on the new
    const [user] = await tx
      .select({ email: users.email, displayName: users.displayName })
      .from(users)
      .where(eq(users.id, userId));
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'staff.set_access',
      targetType: 'user',
      targetId: userId,
      outcome: 'succeeded',
      requestId,
      detail: { roles },
    });
    return {
      userId,
      email: user?.email ?? '',
      displayName: user?.displayName ?? '',
      roles,
      ...staffPresetAccess(roles),
      isOwner: row.isOwner,
    };
  });
}

export async function listStaff(deps: Pick<Deps, 'db'>, principal: PartnerPrincipal): Promise<StaffView[]> {
  assertOwner(principal);
  const rows = await deps.db
    .select({
      userId: users.id,
      email: users.email,
      displayName: users.displayName,
      roles: staffAccess.roles,
      isOwner: staffAccess.isOwner,
    })
    .from(staffAccess)
    .innerJoin(users, eq(users.id, staffAccess.userId))
    .where(eq(staffAccess.partnerId, principal.partnerId))
    .orderBy(asc(users.id));
  return rows.map((r) => ({
    userId: r.userId,
    email: r.email,
    displayName: r.displayName,
    roles: sortRoles(r.roles),
    ...staffPresetAccess(r.roles),
    isOwner: r.isOwner,
  }));
}
