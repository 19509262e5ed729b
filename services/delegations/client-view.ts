import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { DelegationState } from '../../core/delegation-machine.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { Db } from '../../db/client.ts';
import { auditEvents, delegations, organizations, users } from '../../db/schema/index.ts';

export interface ClientDelegationRow {
  id: string;
  partnerName: string;
  state: DelegationState;
  roles: Role[];
  since: Date | null;
  until: Date | null;
  autoExtend: boolean;
}

/** The delegations an organization has granted (or is granting), newest first. */
export async function listClientDelegations(db: Db, orgId: string): Promise<ClientDelegationRow[]> {
  const rows = await db
    .select({
      id: delegations.id,
      partnerName: organizations.name,
      state: delegations.state,
      roles: delegations.roles,
      since: delegations.activatedAt,
      acceptedAt: delegations.acceptedAt,
      until: delegations.endsAt,
      autoExtend: delegations.autoExtend,
    })
    .from(delegations)
    .innerJoin(organizations, eq(organizations.id, delegations.partnerId))
    .where(eq(delegations.clientOrgId, orgId))
    .orderBy(desc(delegations.id))
    .limit(500);
  return rows.map((r) => ({
    id: r.id,
    partnerName: r.partnerName,
    state: r.state,
    roles: sortRoles(r.roles),
    since: r.since ?? r.acceptedAt,
    until: r.until,
    autoExtend: r.autoExtend,
  }));
}

export interface ClientAuditRow {
  at: Date;
  action: string;
  outcome: string;
  actor: string;
  partnerName: string | null;
  target: string;
}

/** What happened in an organization, newest first: the trail a client admin audits. */
export async function listClientAudit(db: Db, orgId: string, limit = 200): Promise<ClientAuditRow[]> {
  const rows = await db
    .select({
      at: auditEvents.createdAt,
      action: auditEvents.action,
      outcome: auditEvents.outcome,
      actorEmail: users.email,
      partnerName: sql<string | null>`(select name from ${organizations} where id = ${auditEvents.partnerId})`,
      targetType: auditEvents.targetType,
      targetId: auditEvents.targetId,
    })
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.orgId, orgId), ne(auditEvents.action, 'organization.create')))
    .orderBy(desc(auditEvents.id))
    .limit(limit);
  return rows.map((r) => ({
    at: r.at,
    action: r.action,
    outcome: r.outcome,
    actor: r.actorEmail ?? 'Mandate (automatic)',
    partnerName: r.partnerName,
    target: `${r.targetType} ${r.targetId}`,
  }));
}
