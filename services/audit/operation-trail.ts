import { and, eq, sql } from 'drizzle-orm';
import type { OperationChange } from '../../core/audit-actions.ts';
import type { Sql, Tx } from '../../db/client.ts';
import { auditEvents, type Operation } from '../../db/schema/index.ts';

/**
 * An operation's story is one audit row: written `pending` when it is asked for (or asked
 * again), given each change as the operation makes it (`detail.changes`), the reason an
 * attempt did not finish (`detail.lastError`), and finally its outcome. The row is found
 * by the operation's id among the pending rows (a partial index holds only those).
 * See docs/adr/0018-one-audit-row-per-operation.md.
 */

/** Adds a change the operation made to its row, inside the change's transaction. */
export function operationProgress(
  tx: Tx,
  operationId: string,
  change: { action: OperationChange; targetType: string; targetId: string; detail?: Record<string, unknown> },
) {
  const entry = JSON.stringify([
    { ...change.detail, action: change.action, targetType: change.targetType, targetId: change.targetId },
  ]);
  return tx
    .update(auditEvents)
    .set({
      detail: sql`coalesce(${auditEvents.detail}, '{}'::jsonb) || jsonb_build_object('changes',
        coalesce(${auditEvents.detail} -> 'changes', '[]'::jsonb) || ${entry}::jsonb)`,
    })
    .where(
      and(
        eq(auditEvents.targetType, 'operation'),
        eq(auditEvents.targetId, operationId),
        sql`${auditEvents.outcome} = 'pending'`,
      ),
    );
}

/**
 * The rest of a statement that begins `with done as (update operations … returning id,
 * result)`: sets the pending rows' outcome — or, for an operation asked for before its
 * story was one row, inserts the outcome as a row of its own.
 */
export function operationOutcomeAudit(
  sql: Sql,
  operation: Pick<Operation, 'id' | 'kind' | 'requestedBy' | 'partnerId' | 'clientOrgId' | 'requestId' | 'attempts'>,
  state: 'succeeded' | 'failed' | 'rejected',
  error: string | null,
) {
  const ending = JSON.stringify({ ...(error ? { error } : {}), attempts: operation.attempts });
  return sql`
    , ended as (
      update audit_events a
      set outcome = ${state},
          detail = coalesce(a.detail, '{}'::jsonb) || ${ending}::text::jsonb
                   || case when done.result is null then '{}'::jsonb else jsonb_build_object('result', done.result) end
      from done
      where a.target_type = 'operation' and a.target_id = ${operation.id} and a.outcome = 'pending'
      returning a.id
    )
    insert into audit_events
      (actor_user_id, partner_id, org_id, request_id, action, target_type, target_id, outcome, detail)
    select ${operation.requestedBy}, ${operation.partnerId}, ${operation.clientOrgId}, ${operation.requestId},
           ${`operation.${operation.kind}`}, 'operation', done.id, ${state},
           coalesce(done.result, '{}'::jsonb) || ${ending}::text::jsonb
    from done
    where not exists (select 1 from ended)`;
}

/**
 * The rest of a statement that begins `with requeued as (update operations … returning
 * id)`: the pending rows say why the attempt did not finish (the operation will try again).
 */
export function operationAttemptAudit(sql: Sql, operationId: string, message: string, attempts: number) {
  return sql`
    update audit_events a
    set detail = coalesce(a.detail, '{}'::jsonb) || ${JSON.stringify({ lastError: message, attempts })}::text::jsonb
    from requeued
    where a.target_type = 'operation' and a.target_id = ${operationId} and a.outcome = 'pending'`;
}
