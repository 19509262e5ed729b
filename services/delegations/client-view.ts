import { desc, eq } from 'drizzle-orm';
import type { DelegationState } from '../../core/delegation-machine.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { Db } from '../../db/client.ts';
import { delegations, organizations } from '../../db/schema/index.ts';

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
