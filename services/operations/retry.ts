import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { operationKinds } from '../../core/operation-kinds.ts';
import { maySeeOperation } from '../../core/partner-permissions.ts';
import { operations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { operationHandlers } from './handlers.ts';
import { authorize, getPartnerDelegation, type RequestContext } from './requests.ts';
import { type OperationView, toOperationView } from './views.ts';

/**
 * Runs a failed operation again: `failed → queued` with a fresh job (the same operation
 * id, so its audit trail stays one story). The one who asked may retry it, as may owners
 * and full-access staff; the permission is checked now (403) and again by the worker,
 * against the staff member who asked. Retrying one already queued or running again is a
 * no-op that returns it; one that succeeded or was rejected cannot be retried (409 —
 * a rejection is a decision, ask anew once the access allows it). A domain check retried
 * gets a fresh deadline.
 */
export async function retryOperation(
  deps: Pick<Deps, 'db' | 'queues' | 'logger'>,
  principal: PartnerPrincipal,
  operationId: string,
  ctx: RequestContext,
): Promise<OperationView> {
  assertSeesPartnerData(principal);
  requireId('operation', operationId, 'operation');
  const [op] = await deps.db
    .select()
    .from(operations)
    .where(and(eq(operations.id, operationId), eq(operations.partnerId, principal.partnerId)));
  if (!op || !maySeeOperation(principal, op.requestedBy)) {
    throw new AppError('NOT_FOUND', 'No such operation');
  }
  if (op.state === 'queued' || op.state === 'running') return toOperationView(op);
  if (op.state !== 'failed') {
    throw new AppError('CONFLICT', `Only a failed operation can be retried; this one ${op.state}`);
  }
  const delegation = await getPartnerDelegation(deps.db, principal.partnerId, op.delegationId);
  authorize(await operationHandlers[op.kind].capability(deps.db, op), delegation, principal);

  const requeued = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(operations)
      .set({
        state: 'queued',
        error: null,
        leaseUntil: null,
        finishedAt: null,
        retriedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(operations.id, op.id), eq(operations.state, 'failed')))
      .returning();
    if (!row) return null;
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: op.clientOrgId,
      action: `operation.retry.${op.kind}`,
      targetType: 'operation',
      targetId: op.id,
      // Pending, like the first asking: this row too follows the operation to its end.
      outcome: 'pending',
      requestId: ctx.requestId,
      detail: { delegationId: op.delegationId, previousError: op.error, attempts: op.attempts },
    });
    return row;
  });
  if (!requeued) {
    // Someone else retried it between our read and our update: theirs stands.
    const [current] = await deps.db.select().from(operations).where(eq(operations.id, op.id));
    return toOperationView(current ?? op);
  }
  await deps.queues.enqueueAfterCommit(
    operationKinds[op.kind].job,
    { operationId: op.id },
    { operationId: op.id },
    { replaceFinished: true },
  );
  return toOperationView(requeued);
}
