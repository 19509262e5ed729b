import { and, eq, sql } from 'drizzle-orm';
import { type Capability, decide } from '../../core/permissions.ts';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { type Delegation, delegations, type Operation, operations, staffAccess } from '../../db/schema/index.ts';
import type { Logger } from '../../lib/logger.ts';
import type { WorkerDeps } from '../../workers/job.ts';
import { type AuditInput, recordAudit } from '../audit.ts';

/** A failure no retry can change; the operation becomes `failed` with this message. */
export class OperationFailure extends Error {
  override name = 'OperationFailure';
}

/** The permission no longer allows the operation; it becomes `rejected`. */
export class OperationRejected extends Error {
  override name = 'OperationRejected';
}

/** Another worker holds this operation right now; try again later. */
export class OperationBusy extends Error {
  override name = 'OperationBusy';
}

export interface EffectContext {
  deps: WorkerDeps;
  operation: Operation;
  delegation: Delegation;
  logger: Logger;
  /**
   * Runs `write` in a transaction that first checks the permission again with the
   * delegation and the staff member's access locked (FOR SHARE): a termination, an
   * expiry or a lowered access either commits before — and the write is rejected — or
   * waits until after it. Every change in a client organization goes through here.
   */
  authorized<T>(write: (tx: Tx) => Promise<T>): Promise<T>;
  /** An audit event in the client organization, for one change (call inside `authorized`). */
  audit(tx: Tx, event: Pick<AuditInput, 'action' | 'targetType' | 'targetId' | 'detail'>): Promise<void>;
}

/** What a kind of operation needs from the runner: its permission and its effect. */
export interface OperationHandler {
  /** The capability the operation needs now (a password reset depends on its target). */
  capability(db: DbOrTx, operation: Operation): Promise<Capability>;
  /**
   * Makes the change, through `ctx.authorized`. Must be idempotent: a crash after it and
   * before the operation is marked done runs it again. Throws OperationFailure for
   * permanent failures; any other error is retried.
   */
  run(ctx: EffectContext): Promise<Record<string, unknown>>;
}

export type OperationOutcome =
  | { outcome: 'succeeded'; result: Record<string, unknown> }
  | { outcome: 'failed'; error: string }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'skipped'; state: string };

async function currentPermission(db: DbOrTx, operation: Operation, handler: OperationHandler, lock: boolean) {
  const dq = db
    .select({
      state: delegations.state,
      roles: delegations.roles,
      pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)`,
    })
    .from(delegations)
    .where(eq(delegations.id, operation.delegationId));
  const sq = db
    .select({ roles: staffAccess.roles })
    .from(staffAccess)
    .where(and(eq(staffAccess.userId, operation.requestedBy), eq(staffAccess.partnerId, operation.partnerId)));
  const [delegation] = lock ? await dq.for('share') : await dq;
  const [staff] = lock ? await sq.for('share') : await sq;
  if (!delegation) return { allowed: false as const, reason: 'the delegation no longer exists' };
  return decide(await handler.capability(db, operation), { delegation, staffRoles: staff?.roles ?? [] });
}

/**
 * Runs one operation: claims it (a lease and the attempt number), checks — now, not when
 * it was requested — that grant ∩ staff access allows it, makes the change (each write
 * re-checked under lock, `authorized`), and records the outcome with its audit event.
 * The outcome is committed only if the attempt is still this run's own, so two workers
 * holding the same job (a lost lock) cannot both commit. A failed or rejected operation
 * keeps the `result` of what it did before it stopped, and every change it made has its
 * own audit event: the client's trail never hides a change.
 */
export async function runOperation(
  deps: WorkerDeps,
  operationId: string,
  handler: OperationHandler,
  options: { isFinalAttempt: boolean; logger: Logger },
): Promise<OperationOutcome> {
  const [operation] = await deps.db
    .update(operations)
    .set({
      state: 'running',
      attempts: sql`${operations.attempts} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${deps.config.leaseSeconds})`,
      updatedAt: sql`now()`,
    })
    .where(
      sql`${operations.id} = ${operationId} and ${operations.state} in ('queued', 'running')
          and (${operations.leaseUntil} is null or ${operations.leaseUntil} < now())`,
    )
    .returning();
  if (!operation) {
    const [current] = await deps.db
      .select({ state: operations.state })
      .from(operations)
      .where(eq(operations.id, operationId));
    if (current?.state === 'running') throw new OperationBusy('another worker is running this operation');
    return { outcome: 'skipped', state: current?.state ?? 'missing' };
  }

  const auditBase = {
    actorUserId: operation.requestedBy,
    partnerId: operation.partnerId,
    orgId: operation.clientOrgId,
    requestId: operation.requestId,
  };
  const finish = async (
    state: 'succeeded' | 'failed' | 'rejected',
    result: Record<string, unknown> | null,
    error: string | null,
  ) => {
    await deps.db.transaction(async (tx) => {
      const [done] = await tx
        .update(operations)
        // Without a new result, keep what the effect recorded of its progress.
        .set({
          state,
          ...(result ? { result } : {}),
          error,
          leaseUntil: null,
          updatedAt: sql`now()`,
          finishedAt: sql`now()`,
        })
        .where(
          and(
            eq(operations.id, operationId),
            eq(operations.state, 'running'),
            eq(operations.attempts, operation.attempts),
          ),
        )
        .returning({ result: operations.result });
      if (!done) return; // A newer attempt owns it now; its outcome will be recorded instead.
      await recordAudit(tx, {
        ...auditBase,
        action: `operation.${operation.kind}`,
        targetType: 'operation',
        targetId: operation.id,
        outcome: state,
        detail: { ...(done.result ?? {}), ...(error ? { error } : {}), attempt: operation.attempts },
      });
    });
  };

  const decision = await currentPermission(deps.db, operation, handler, false);
  if (!decision.allowed) {
    await finish('rejected', null, `Not allowed when it ran: ${decision.reason}`);
    return { outcome: 'rejected', reason: decision.reason };
  }
  const [delegation] = await deps.db.select().from(delegations).where(eq(delegations.id, operation.delegationId));

  const ctx: EffectContext = {
    deps,
    operation,
    delegation: delegation as Delegation,
    logger: options.logger,
    authorized: (write) =>
      deps.db.transaction(async (tx) => {
        const now = await currentPermission(tx, operation, handler, true);
        if (!now.allowed) throw new OperationRejected(now.reason);
        return write(tx);
      }),
    audit: (tx, event) =>
      recordAudit(tx, { ...auditBase, ...event, outcome: 'succeeded', detail: { ...event.detail, operationId } }),
  };

  try {
    const result = await handler.run(ctx);
    await finish('succeeded', result, null);
    return { outcome: 'succeeded', result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof OperationRejected) {
      await finish('rejected', null, `Not allowed when it ran: ${message}`);
      return { outcome: 'rejected', reason: message };
    }
    if (error instanceof OperationFailure || options.isFinalAttempt) {
      await finish('failed', null, message);
      return { outcome: 'failed', error: message };
    }
    await deps.db
      .update(operations)
      .set({ state: 'queued', error: message, leaseUntil: null, updatedAt: sql`now()` })
      .where(and(eq(operations.id, operationId), eq(operations.attempts, operation.attempts)));
    throw error;
  }
}
