import { eq, sql } from 'drizzle-orm';
import { canTransition, type DelegationState } from '../../core/delegation-machine.ts';
import { AppError } from '../../core/errors.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import { delegations, organizations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { isEndLinkToken } from '../../lib/secrets.ts';
import { terminateByEndLink } from './termination.ts';

/** What the "End this delegation" page shows: who holds what, and whether it can still end. */
export interface EndLinkView {
  delegationId: string;
  partnerName: string;
  clientName: string;
  state: DelegationState;
  roles: Role[];
  endsAt: Date | null;
}

/**
 * The delegation an end link leads to, or null when the key is not that delegation's. The
 * key is checked (in constant time) before anything is read, so a wrong key learns nothing,
 * not even whether the delegation exists.
 */
export async function resolveEndLink(
  deps: Pick<Deps, 'db' | 'config'>,
  delegationId: string,
  key: string,
): Promise<EndLinkView | null> {
  if (!isEndLinkToken(deps.config.linkSecret, delegationId, key)) return null;
  const [row] = await deps.db
    .select({
      state: delegations.state,
      roles: delegations.roles,
      endsAt: delegations.endsAt,
      partnerName: sql<string>`(select name from ${organizations} where id = ${delegations.partnerId})`,
      clientName: sql<
        string | null
      >`coalesce((select name from ${organizations} where id = ${delegations.clientOrgId}), ${delegations.recipientCompany}, ${delegations.recipientEmail})`,
    })
    .from(delegations)
    .where(eq(delegations.id, delegationId));
  if (!row) return null;
  return {
    delegationId,
    partnerName: row.partnerName,
    clientName: row.clientName ?? 'your organization',
    state: row.state,
    roles: sortRoles(row.roles),
    endsAt: row.endsAt,
  };
}

/** Whether a delegation in this state can still be ended (else it has ended, or never began). */
export function canEnd(state: DelegationState): boolean {
  return canTransition(state, 'terminate');
}

export type EndByLinkOutcome =
  | { outcome: 'ended'; link: EndLinkView }
  /** Ended, expired, declined or failed before: nothing changed. */
  | { outcome: 'already-ended'; link: EndLinkView };

/**
 * Ends the delegation an end link leads to, as the client (both sides are emailed, through
 * the same termination as the organization's page). Idempotent: a delegation that has
 * already ended stays as it is. A wrong key is NOT_FOUND, exactly like an unknown delegation.
 */
export async function endDelegationByLink(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  delegationId: string,
  key: string,
  requestId?: string,
): Promise<EndByLinkOutcome> {
  const link = await resolveEndLink(deps, delegationId, key);
  if (!link) throw new AppError('NOT_FOUND', 'There is nothing at this address.');
  if (!canEnd(link.state)) return { outcome: 'already-ended', link };
  try {
    await terminateByEndLink(deps, link, requestId);
  } catch (error) {
    // It expired (or was ended) between the read and the update: nothing left to end.
    if (!(error instanceof AppError && error.code === 'INVALID_TRANSITION')) throw error;
    return { outcome: 'already-ended', link: (await resolveEndLink(deps, delegationId, key)) ?? link };
  }
  return { outcome: 'ended', link: (await resolveEndLink(deps, delegationId, key)) ?? link };
}
