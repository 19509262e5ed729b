import { and, eq } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { canManageDelegations } from '../../core/partner-permissions.ts';
import { delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/**
 * A manual extension always goes beyond what the client agreed to (the accepted duration,
 * and the auto-extensions the client accepted, which the lifecycle sweep applies), so the
 * partner cannot give it to itself: this answers AMENDMENT_REQUIRED, pointing to the
 * amendment that asks the client, and never changes the end. A delegation that is not
 * active cannot be extended at all (INVALID_TRANSITION).
 */
export async function extendDelegation(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  delegationId: string,
  days: number,
): Promise<never> {
  if (!canManageDelegations(principal)) {
    throw new AppError('NOT_AUTHORIZED', 'Only owners and staff with full access can extend delegations');
  }
  requireId('delegation', delegationId, 'delegation');
  const [d] = await deps.db
    .select({ state: delegations.state })
    .from(delegations)
    .where(and(eq(delegations.id, delegationId), eq(delegations.partnerId, principal.partnerId)));
  if (!d) throw new AppError('NOT_FOUND', 'No such delegation');
  if (d.state !== 'active') {
    throw new AppError('INVALID_TRANSITION', `Only an active delegation can be extended; this one is ${d.state}`, {
      details: { from: d.state, event: 'extend' },
    });
  }
  throw new AppError(
    'AMENDMENT_REQUIRED',
    `A longer delegation needs the client's yes: POST /v1/delegations/${delegationId}/amendments with {"extendDays": ${days}}`,
    {
      details: {
        amendment: { method: 'POST', path: `/v1/delegations/${delegationId}/amendments`, body: { extendDays: days } },
      },
    },
  );
}
