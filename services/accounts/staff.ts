import { and, asc, eq, sql } from 'drizzle-orm';
import { type StaffAccessLevel, staffPresetAccess, staffRolesFrom } from '../../core/access.ts';
import type { AuditAction } from '../../core/audit-actions.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { apiTokens, auditEvents, staffAccess, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { generatePassword, hashPassword, newApiToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { findUserByEmail, userEmailIs } from '../shared/users.ts';
import { endAllSessions } from './sessions.ts';

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
 * Why an address cannot become a new staff member of this partner.
 *
 * Only the partner's own staff is named (409): its owners see that list anyway. An address
 * with an account anywhere else on the instance — another partner's staff, a client's user
 * — gets one refusal that names no reason (422, the same body whoever holds the address),
 * because "this address already exists" would tell any partner owner who has an account,
 * and of what kind. The refusal cannot look like a creation: a 201 carries the new password
 * and token, and handing out credentials that open nothing would be worse than the 422.
 * What is left to a prober is "usable or not", and only to a partner's owner, at the
 * price of a real, audited staff member in their own partner for every usable address
 * tried. The time is alike: the password is hashed before the address is looked at, and
 * the rest of either path is one statement.
 */
function refusal(existing: { orgId: string }, partnerId: string): AppError {
  return existing.orgId === partnerId
    ? new AppError('CONFLICT', 'This address is already a staff member of your partner', {
        issues: [{ path: 'email', message: 'already a staff member here' }],
      })
    : new AppError('VALIDATION_FAILED', 'This address cannot be used for a new staff member.', {
        issues: [{ path: 'email', message: 'cannot be used for a new staff member: choose another address' }],
      });
}

/**
 * Adds a staff member to the partner with a generated password and an API token, both
 * returned once. Owners only. An address already in use is refused ({@link refusal}).
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
  const { partnerId } = principal;
  // One statement on both paths — look the address up, and only if it is free insert the
  // user, their access, their token and the audit row — so a refusal takes the time of a
  // creation (each statement more would be a round trip only creations pay).
  const [row] = await deps.db
    .execute(sql`
      with existing as (
        select ${users.orgId} as org_id from ${users} where ${userEmailIs(input.email)}
      ), new_user as (
        insert into ${users} (id, org_id, email, display_name, password_hash, must_change_password)
        -- The owner saw this password: the staff member chooses their own at first sign-in.
        select ${userId}, ${partnerId}, ${input.email}, ${input.displayName}, ${passwordHash}, true
        where not exists (select 1 from existing)
        returning id
      ), new_access as (
        insert into ${staffAccess} (user_id, partner_id, roles)
        select id, ${partnerId}, ${sql.param(roles, staffAccess.roles)}::text[] from new_user
      ), new_token as (
        insert into ${apiTokens} (id, user_id, org_id, token_hash, label)
        select ${newId('apiToken')}, id, ${partnerId}, ${sha256Hex(token)}, 'staff token' from new_user
      ), audit as (
        insert into ${auditEvents}
          (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, request_id, detail)
        select ${principal.userId}, ${partnerId}, ${partnerId}, ${'staff.create' satisfies AuditAction}, 'user', id,
          'succeeded', ${requestId ?? null}, ${JSON.stringify({ roles })}::jsonb
        from new_user
      )
      select (select org_id from existing) as existing_org_id`)
    .catch(async (error: unknown) => {
      if (!isUniqueViolation(error)) throw error;
      // Two creations with one address at once: the unique index decided; answer as for a found one.
      const existing = await findUserByEmail(deps.db, input.email, { orgId: users.orgId });
      throw existing ? refusal(existing, partnerId) : error;
    });
  if (row?.existing_org_id) throw refusal({ orgId: String(row.existing_org_id) }, partnerId);
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
