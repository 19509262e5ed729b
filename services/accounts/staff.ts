import { and, asc, eq, sql } from 'drizzle-orm';
import { type StaffAccessLevel, staffPresetAccess, staffRolesFrom } from '../../core/access.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { apiTokens, staffAccess, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { generatePassword, hashPassword, newApiToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { findUserByEmail } from '../shared/users.ts';

function assertOwner(principal: PartnerPrincipal): void {
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

function rolesOrThrow(input: StaffRolesInput): Role[] {
  const asked = staffRolesFrom(input);
  if ('issues' in asked) {
    throw new AppError('VALIDATION_FAILED', 'The staff access is not valid', { issues: asked.issues });
  }
  return asked.roles;
}

/**
 * Adds a staff member to the partner with a generated password and an API token, both
 * returned once. Owners only.
 */
export async function createStaff(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  input: { email: string; displayName: string } & StaffRolesInput,
  requestId?: string,
): Promise<StaffView & { password: string; token: string }> {
  assertOwner(principal);
  const roles = rolesOrThrow(input);
  const userId = newId('user');
  const password = generatePassword();
  const token = newApiToken();
  const passwordHash = await hashPassword(password);
  const taken = () =>
    new AppError('CONFLICT', 'A user with this email already exists', {
      issues: [{ path: 'email', message: 'already in use' }],
    });
  await deps.db
    .transaction(async (tx) => {
      const existing = await findUserByEmail(tx, input.email, { id: users.id });
      if (existing) throw taken();
      await tx.insert(users).values({
        id: userId,
        orgId: principal.partnerId,
        email: input.email,
        displayName: input.displayName,
        passwordHash,
        // The owner saw this password: the staff member chooses their own at first sign-in.
        mustChangePassword: true,
      });
      await tx.insert(staffAccess).values({ userId, partnerId: principal.partnerId, roles });
      await tx.insert(apiTokens).values({
        id: newId('apiToken'),
        userId,
        orgId: principal.partnerId,
        tokenHash: sha256Hex(token),
        label: 'staff token',
      });
      await recordAudit(tx, {
        actorUserId: principal.userId,
        partnerId: principal.partnerId,
        orgId: principal.partnerId,
        action: 'staff.create',
        targetType: 'user',
        targetId: userId,
        outcome: 'succeeded',
        requestId,
        detail: { roles },
      });
    })
    .catch((error: unknown) => {
      throw isUniqueViolation(error) ? taken() : error;
    });
  return {
    userId,
    email: input.email,
    displayName: input.displayName,
    roles,
    ...staffPresetAccess(roles),
    isOwner: false,
    password,
    token,
  };
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
