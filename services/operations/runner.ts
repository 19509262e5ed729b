import { and, eq, sql } from 'drizzle-orm';
import type { Capability } from '../../core/permissions.ts';
import { decide } from '../../core/permissions.ts';
import type { Db } from '../../db/client.ts';
import { type Delegation, delegations, type Operation, operations, staffAccess } from '../../db/schema/index.ts';
import type { Logger } from '../../lib/logger.ts';
import { SEND_LEASE_SECONDS } from '../../lib/retry.ts';
import type { WorkerDeps } from '../../workers/job.ts';
import { recordAudit } from '../audit.ts';

/** A failure no retry can change; the operation becomes `failed` with this message. */
export class OperationFailure extends Error {
  override name = 'OperationFailure';
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
}

/** What a kind of operation needs from the runner: its permission and its effect. */
export interface OperationHandler {
  /** The capability the operation needs now (a password reset depends on its target). */
  capability(db: Db, operation: Operation): Promise<Capability>;
  /**
   * Makes the change. Must be idempotent: a crash after it and before the operation is
   * marked done runs it again. Throws OperationFailure for permanent failures; any other
   * error is retried.
   */
  run(ctx: EffectContext): Promise<Record<string, unknown>>;
}

export type OperationOutcome =
  | { outcome: 'succeeded'; result: Record<string, unknown> }
  | { outcome: 'failed'; error: string }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'skipped'; state: string };

/**
 * Runs one operation: claims it (a lease and the attempt number), checks again — now,
 * not when it was requested — that the delegation is active and that grant ∩ staff
 * access allows it, makes the change, and records the outcome with its audit event.
 * The outcome is committed only if the attempt is still this run's own, so two workers
 * holding the same job (a lost lock) cannot both commit.
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
      leaseUntil: sql`now() + make_interval(secs => ${SEND_LEASE_SECONDS})`,
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

  const finish = async (
    state: 'succeeded' | 'failed' | 'rejected',
    result: Record<string, unknown> | null,
    error: string | null,
  ) => {
    await deps.db.transaction(async (tx) => {
      const [done] = await tx
        .update(operations)
        .set({ state, result, error, leaseUntil: null, updatedAt: sql`now()`, finishedAt: sql`now()` })
        .where(
          and(
            eq(operations.id, operationId),
            eq(operations.state, 'running'),
            eq(operations.attempts, operation.attempts),
          ),
        )
        .returning({ id: operations.id });
      if (!done) return; // A newer attempt owns it now; its outcome will be recorded instead.
      await recordAudit(tx, {
        actorUserId: operation.requestedBy,
        partnerId: operation.partnerId,
        orgId: operation.clientOrgId,
        action: `operation.${operation.kind}`,
        targetType: 'operation',
        targetId: operation.id,
        outcome: state,
        requestId: operation.requestId,
        detail: { ...(result ?? {}), ...(error ? { error } : {}), attempt: operation.attempts },
      });
    });
  };

  const [delegation] = await deps.db.select().from(delegations).where(eq(delegations.id, operation.delegationId));
  const [staff] = await deps.db
    .select({ roles: staffAccess.roles })
    .from(staffAccess)
    .where(and(eq(staffAccess.userId, operation.requestedBy), eq(staffAccess.partnerId, operation.partnerId)));
  if (!delegation) {
    await finish('rejected', null, 'the delegation no longer exists');
    return { outcome: 'rejected', reason: 'the delegation no longer exists' };
  }
  const decision = decide(await handler.capability(deps.db, operation), { delegation, staffRoles: staff?.roles ?? [] });
  if (!decision.allowed) {
    await finish('rejected', null, `Not allowed when it ran: ${decision.reason}`);
    return { outcome: 'rejected', reason: decision.reason };
  }

  try {
    const result = await handler.run({ deps, operation, delegation, logger: options.logger });
    await finish('succeeded', result, null);
    return { outcome: 'succeeded', result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
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
