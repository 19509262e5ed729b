import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { describeRoles, type StaffAccessLevel, staffPresetAccess } from '../../core/access.ts';
import type { AuditAction } from '../../core/audit-actions.ts';
import { staffInvitationEmail, staffInvitationRefusedEmail } from '../../core/emails/notifications.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { auditEvents, organizations, staffAccess, staffInvitations, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { hashPassword, sha256Hex, staffInvitationToken } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import { linkPlaceholder } from '../mail/derived-links.ts';
import { notifyContext } from '../mail/notifications.ts';
import { enqueueEmails, recordEmails } from '../mail/outbox.ts';
import { fenceClaim } from '../shared/idempotency-keys.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { findUserByEmail, userEmailIs } from '../shared/users.ts';
import { assertOwner, rolesOrThrow, type StaffRolesInput } from './staff.ts';
import { endEveryWayIn } from './staff-removal.ts';

/** How long an invitation's link works. */
export const INVITATION_TTL_DAYS = 7;

/** The answer to every invitation, whoever holds the address (but the partner's own staff: 409). */
export interface InvitationSent {
  email: string;
  message: string;
}

const sentMessage =
  'An email was sent to this address. If it can join your staff, it carries a link to accept the invitation within 7 days; pending invitations are listed until then.';

/**
 * Invites an address to the partner's staff. Owners only. Nothing is created but the
 * invitation: the person behind the address accepts it by choosing a password.
 *
 * Every address gets the same answer, in the same time, so an owner does not learn
 * which addresses have an account: a free one is emailed the link; one with an account
 * elsewhere on the instance gets an invitation row all the same (listed, expiring like
 * the others; its link is never sent) and an email telling it nothing was created. Both
 * paths run the same statements. Only the partner's own staff is named (409): the owner
 * sees that list anyway.
 *
 * Inviting an address again replaces its pending invitation (the old link dies); the
 * number of invitations a partner sends is limited (`staffInvitationsPerPartner`).
 *
 * A member this partner removed (services/accounts/staff-removal.ts) is invited like a free
 * address: accepting gives their kept user row a new password and access. Another partner's
 * removed member still holds an account there, so is refused like any account elsewhere.
 */
export async function inviteStaff(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config' | 'rateLimits'>,
  principal: PartnerPrincipal,
  input: { email: string; displayName: string } & StaffRolesInput,
  requestId?: string,
): Promise<InvitationSent> {
  assertOwner(principal);
  const roles = rolesOrThrow(input);
  const { partnerId } = principal;
  await deps.rateLimits.consume('staffInvitationsPerPartner', partnerId);
  const ctx = notifyContext(deps.config);
  const id = newId('staffInvitation');
  const tokenHash = sha256Hex(staffInvitationToken(deps.config.linkSecret, id));
  const emailIds = await deps.db
    .transaction(async (tx) => {
      // Its audit row is written in a CTE below: the Idempotency-Key's fence here (ADR 19).
      await fenceClaim(tx);
      // The pending invitation of this address, if any, is replaced (its link dies with it).
      await tx
        .update(staffInvitations)
        .set({ revokedAt: sql`now()` })
        .where(
          and(
            eq(staffInvitations.partnerId, partnerId),
            sql`lower(${staffInvitations.email}) = lower(${input.email})`,
            isNull(staffInvitations.acceptedAt),
            isNull(staffInvitations.revokedAt),
          ),
        );
      // One statement on both paths: the address looked up, the invitation and its audit
      // row stored, the names the email needs read.
      const [row] = await tx.execute(sql`
        with existing as (
          select ${users.orgId} as org_id from ${users} where ${userEmailIs(input.email)}
            and not ${removedFrom(partnerId)}
        ), stored as (
          insert into ${staffInvitations}
            (id, partner_id, email, display_name, roles, token_hash, invited_by, expires_at)
          values (${id}, ${partnerId}, ${input.email}, ${input.displayName},
            ${sql.param(roles, staffInvitations.roles)}::text[], ${tokenHash}, ${principal.userId},
            now() + make_interval(days => ${INVITATION_TTL_DAYS}))
          returning id
        ), audit as (
          insert into ${auditEvents}
            (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, request_id, detail)
          select ${principal.userId}, ${partnerId}, ${partnerId}, ${'staff.invite' satisfies AuditAction},
            'staff_invitation', id, 'succeeded', ${requestId ?? null}, ${JSON.stringify({ roles })}::jsonb
          from stored
        )
        select (select org_id from existing) as existing_org_id,
          (select name from ${organizations} where id = ${partnerId}) as partner_name,
          (select display_name from ${users} where id = ${principal.userId}) as invited_by`);
      const existingOrg = row?.existing_org_id == null ? null : String(row.existing_org_id);
      if (existingOrg === partnerId) {
        throw new AppError('CONFLICT', 'This address is already a staff member of your partner', {
          issues: [{ path: 'email', message: 'already a staff member here' }],
        });
      }
      const names = { partnerName: String(row?.partner_name ?? ''), invitedBy: String(row?.invited_by ?? '') };
      const link = linkPlaceholder({ kind: 'staff-invitation', invitationId: id });
      return recordEmails(tx, ctx.messageIdDomain, [
        existingOrg === null
          ? {
              dedupeKey: `staff-invitation.${id}`,
              kind: 'staff-invitation',
              toEmail: input.email,
              content: staffInvitationEmail({
                ...names,
                access: describeRoles(roles),
                link: link.placeholder,
                expiresDays: INVITATION_TTL_DAYS,
              }),
              links: link.links,
            }
          : {
              dedupeKey: `staff-invitation.${id}`,
              kind: 'staff-invitation-refused',
              toEmail: input.email,
              content: staffInvitationRefusedEmail(names),
            },
      ]);
    })
    .catch((error: unknown) => {
      // Two invitations of one address at once: the pending-invitation index decided.
      if (isUniqueViolation(error)) {
        throw new AppError('CONFLICT', 'This address is being invited by another request: try again', {
          cause: error,
        });
      }
      throw error;
    });
  await enqueueEmails(deps, emailIds);
  return { email: input.email, message: sentMessage };
}

export interface InvitationView {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  access?: StaffAccessLevel;
  invitedAt: string;
  expiresAt: string;
}

const pending = () =>
  and(
    isNull(staffInvitations.acceptedAt),
    isNull(staffInvitations.revokedAt),
    gt(staffInvitations.expiresAt, sql`now()`),
  );

/** The partner's invitations not yet accepted, withdrawn or expired, oldest first. Owners only. */
export async function listInvitations(deps: Pick<Deps, 'db'>, principal: PartnerPrincipal): Promise<InvitationView[]> {
  assertOwner(principal);
  const rows = await deps.db
    .select()
    .from(staffInvitations)
    .where(and(eq(staffInvitations.partnerId, principal.partnerId), pending()))
    .orderBy(asc(staffInvitations.createdAt), asc(staffInvitations.id));
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    displayName: r.displayName,
    roles: sortRoles(r.roles),
    ...staffPresetAccess(r.roles),
    invitedAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
  }));
}

/** Withdraws a pending invitation: its link stops working. Owners only; another partner's is NOT_FOUND. */
export async function revokeInvitation(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  invitationId: string,
  requestId?: string,
): Promise<void> {
  assertOwner(principal);
  requireId('staffInvitation', invitationId, 'invitation');
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(staffInvitations)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(staffInvitations.id, invitationId),
          eq(staffInvitations.partnerId, principal.partnerId),
          isNull(staffInvitations.acceptedAt),
          isNull(staffInvitations.revokedAt),
        ),
      )
      .returning({ id: staffInvitations.id });
    if (!row) throw new AppError('NOT_FOUND', 'No such pending invitation');
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'staff.invitation.revoke',
      targetType: 'staff_invitation',
      targetId: invitationId,
      outcome: 'succeeded',
      requestId,
    });
  });
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;
const gone = () =>
  new AppError(
    'INVITATION_GONE',
    'This invitation has expired, was withdrawn or was already used. Ask the partner to invite you again.',
  );

/** What the invitation page shows: the live invitation behind a link, or INVITATION_GONE (410). */
export async function findInvitation(deps: Pick<Deps, 'db'>, token: string) {
  const [row] = tokenShape.test(token)
    ? await deps.db
        .select({
          email: staffInvitations.email,
          displayName: staffInvitations.displayName,
          roles: staffInvitations.roles,
          partnerName: organizations.name,
          expiresAt: staffInvitations.expiresAt,
        })
        .from(staffInvitations)
        .innerJoin(organizations, eq(organizations.id, staffInvitations.partnerId))
        .where(and(eq(staffInvitations.tokenHash, sha256Hex(token)), pending()))
    : [];
  if (!row) throw gone();
  return { ...row, roles: sortRoles(row.roles) };
}

/**
 * Whether the `users` row of the statement is a member `partnerId` removed: a user of the
 * partner's own organization without staff access (only removal leaves one so).
 */
function removedFrom(partnerId: string) {
  return sql<boolean>`(${users.orgId} = ${partnerId} and not exists (select 1 from ${staffAccess} s where s.user_id = "users"."id"))`;
}

/**
 * Accepts an invitation (once): creates the user in the partner with the chosen password
 * and their staff access with the invited roles, in one transaction with the claim (a
 * member the partner removed gets their kept row back, with the new password). An
 * address that got an account meanwhile is refused and nothing changes (the claim is
 * rolled back with the rest).
 */
export async function acceptInvitation(
  deps: Pick<Deps, 'db'>,
  token: string,
  password: string,
): Promise<{ userId: string }> {
  if (!tokenShape.test(token)) throw gone();
  const passwordHash = await hashPassword(password);
  let userId = newId('user');
  const taken = (cause?: unknown) =>
    new AppError(
      'CONFLICT',
      'This address has had a Mandate account since the invitation was sent, and one address belongs to one organization: nothing was created. Ask the partner to invite another address.',
      { cause },
    );
  return deps.db
    .transaction(async (tx) => {
      const [claimed] = await tx
        .update(staffInvitations)
        .set({ acceptedAt: sql`now()` })
        .where(and(eq(staffInvitations.tokenHash, sha256Hex(token)), pending()))
        .returning();
      if (!claimed) throw gone();
      // Sent by an owner who is no longer one (or no longer staff): it speaks for nobody now.
      const [inviter] = await tx
        .select({ isOwner: staffAccess.isOwner })
        .from(staffAccess)
        .where(and(eq(staffAccess.userId, claimed.invitedBy), eq(staffAccess.partnerId, claimed.partnerId)));
      if (!inviter?.isOwner) throw gone();
      const existing = await findUserByEmail(tx, claimed.email, {
        id: users.id,
        removed: removedFrom(claimed.partnerId),
      });
      if (existing && !existing.removed) throw taken();
      if (existing) {
        // Back on the staff: the row the trail names, with the password just chosen.
        userId = existing.id;
        await tx
          .update(users)
          .set({ displayName: claimed.displayName, passwordHash, mustChangePassword: false })
          .where(eq(users.id, userId));
        // Whatever way in slipped past the removal stays shut: only the new password opens.
        await endEveryWayIn(tx, userId);
      } else {
        await tx.insert(users).values({
          id: userId,
          orgId: claimed.partnerId,
          email: claimed.email,
          displayName: claimed.displayName,
          passwordHash,
        });
      }
      await tx.insert(staffAccess).values({ userId, partnerId: claimed.partnerId, roles: claimed.roles });
      await recordAudit(tx, {
        actorUserId: userId,
        partnerId: claimed.partnerId,
        orgId: claimed.partnerId,
        action: 'staff.invitation.accept',
        targetType: 'user',
        targetId: userId,
        outcome: 'succeeded',
        detail: { invitationId: claimed.id, invitedBy: claimed.invitedBy, roles: claimed.roles },
      });
      return { userId };
    })
    .catch((error: unknown) => {
      // The address was taken by a creation running at the same moment: the unique index decided.
      throw isUniqueViolation(error) ? taken(error) : error;
    });
}
