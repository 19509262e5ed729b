import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { MAX_DURATION_DAYS } from '../../core/offer-rules.ts';
import { canManageDelegations } from '../../core/partner-permissions.ts';
import { delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { applyTransition } from './transitions.ts';

/**
 * Moves the end of an active delegation `days` later, as long as it stays within
 * 730 days from now (the longest a delegation may run ahead).
 */
export async function extendDelegation(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  delegationId: string,
  days: number,
  requestId?: string,
): Promise<{ endsAt: string }> {
  if (!canManageDelegations(principal)) {
    throw new AppError('NOT_AUTHORIZED', 'Only owners and staff with full access can extend delegations');
  }
  requireId('delegation', delegationId, 'delegation');
  return deps.db.transaction(async (tx) => {
    const [d] = await tx
      .select({
        state: delegations.state,
        endsAt: delegations.endsAt,
        clientOrgId: delegations.clientOrgId,
        newEnd: sql<string>`${delegations.endsAt} + make_interval(days => ${days})`,
        overdue: sql<boolean>`${delegations.endsAt} <= now()`,
        fits: sql<boolean>`${delegations.endsAt} + make_interval(days => ${days}) <= now() + make_interval(days => ${MAX_DURATION_DAYS})`,
        latest: sql<string>`now() + make_interval(days => ${MAX_DURATION_DAYS})`,
      })
      .from(delegations)
      .where(and(eq(delegations.id, delegationId), eq(delegations.partnerId, principal.partnerId)))
      .for('update');
    if (!d) throw new AppError('NOT_FOUND', 'No such delegation');
    if (d.state !== 'active') {
      throw new AppError('INVALID_TRANSITION', `Only an active delegation can be extended; this one is ${d.state}`, {
        details: { from: d.state, event: 'extend' },
      });
    }
    if (d.overdue) {
      // Its end has passed; the lifecycle sweep is about to expire it. Extending now would
      // bring back a delegation that is already over.
      throw new AppError('INVALID_TRANSITION', 'This delegation has reached its end; send a new offer instead', {
        details: { from: 'active', event: 'extend' },
      });
    }
    if (!d.fits) {
      throw new AppError('VALIDATION_FAILED', `A delegation may not end more than ${MAX_DURATION_DAYS} days from now`, {
        issues: [
          { path: 'days', message: `the new end would be after ${new Date(d.latest).toISOString().slice(0, 10)}` },
        ],
      });
    }
    const endsAt = new Date(d.newEnd);
    await applyTransition(tx, {
      delegationId,
      from: 'active',
      event: 'extend',
      actor: { type: 'partner_user', id: principal.userId },
      set: { endsAt },
      detail: { days, previousEnd: d.endsAt?.toISOString() ?? null, newEnd: endsAt.toISOString() },
    });
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: d.clientOrgId ?? principal.partnerId,
      action: 'delegation.extend',
      targetType: 'delegation',
      targetId: delegationId,
      outcome: 'succeeded',
      requestId,
      detail: { days, newEnd: endsAt.toISOString() },
    });
    return { endsAt: endsAt.toISOString() };
  });
}
