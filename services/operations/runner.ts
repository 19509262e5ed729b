import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { OperationChange } from '../../core/audit-actions.ts';
import type { DelegationState } from '../../core/delegation-machine.ts';
import { type Capability, decide, type PermissionInput } from '../../core/permissions.ts';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import { delegations, type Operation, operations, organizations, staffAccess, users } from '../../db/schema/index.ts';
import type { WorkerDeps } from '../../lib/deps.ts';
import { type Logger, redactQueryParams } from '../../lib/logger.ts';
import { withRetries } from '../../lib/retry.ts';
import { operationAttemptAudit, operationOutcomeAudit, operationProgress } from '../audit/operation-trail.ts';
import { operationWebhookDeliveries } from '../webhooks/record.ts';

/** A failure no retry can change; the operation becomes `failed` with this message. */
export class OperationFailure extends Error {
  override name = 'OperationFailure';
}

/** The permission no longer allows the operation; it becomes `rejected`. */
export class OperationRejected extends Error {
  override name = 'OperationRejected';
}

/**
 * What the operation waits for is not there yet (a TXT record not published): expected,
 * retried with backoff, and logged as such — not as a failure with a stack.
 */
export class OperationWaits extends Error {
  override name = 'OperationWaits';
}

/** Another worker holds this operation right now; try again later. */
export class OperationBusy extends Error {
  override name = 'OperationBusy';
}

export interface EffectContext {
  deps: WorkerDeps;
  operation: Operation;
  /** Read when the operation was claimed: the address of the staff member who asked (null if gone). */
  requesterEmail: string | null;
  /** Read when the operation was claimed: the name of the client organization. */
  orgName: string | null;
  logger: Logger;
  /**
   * Runs `write` in a transaction that first checks the permission again with the
   * delegation and the staff member's access locked (FOR SHARE): a termination, an
   * expiry or a lowered access either commits before — and the write is rejected — or
   * waits until after it. Every change in a client organization goes through here.
   */
  authorized<T>(write: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Records one change in the operation's audit row (call inside `authorized`, so the
   * change and its record commit together): a failed or refused operation still shows
   * everything it changed before it stopped.
   */
  audit(tx: Tx, change: OperationChangeRecord): Promise<void>;
}

/** A change an operation made, as its audit row lists it (`detail.changes`). */
export interface OperationChangeRecord {
  action: OperationChange;
  targetType: string;
  targetId: string;
  detail?: Record<string, unknown>;
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

/**
 * The permission now, with the delegation and the staff member's access locked FOR SHARE
 * (inside `authorized`): one prepared statement (see {@link runPrepared}) that locks both
 * rows, sent with the capability's own query if it has one. Without a row — no
 * delegation, or no staff access — each is read on its own to tell which.
 */
async function lockedPermission(tx: Tx, operation: Operation, handler: OperationHandler) {
  const staffOfRequester = and(
    eq(staffAccess.userId, operation.requestedBy),
    eq(staffAccess.partnerId, operation.partnerId),
  );
  const delegationFields = {
    state: delegations.state,
    roles: delegations.roles,
    pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)`,
  };
  const [[both], capability] = await Promise.all([
    runPrepared(
      tx
        .select({ ...delegationFields, staffRoles: staffAccess.roles })
        .from(delegations)
        .innerJoin(staffAccess, staffOfRequester)
        .where(eq(delegations.id, operation.delegationId))
        .for('share'),
    ),
    handler.capability(tx, operation),
  ]);
  if (both) return decideFor(capability, both, both.staffRoles);
  const [delegation] = await tx
    .select(delegationFields)
    .from(delegations)
    .where(eq(delegations.id, operation.delegationId))
    .for('share');
  return decideFor(capability, delegation, []);
}

function decideFor(
  capability: Capability,
  delegation: PermissionInput['delegation'] | null | undefined,
  staffRoles: readonly string[] | null | undefined,
) {
  if (!delegation) return { allowed: false as const, reason: 'the delegation no longer exists' };
  return decide(capability, { delegation, staffRoles: staffRoles ?? [] });
}

/**
 * Runs a query built on a transaction as a prepared statement. Drizzle sends ordinary
 * queries unnamed, which postgres.js does in two round trips when they have parameters
 * (Parse + Describe, then Bind + Execute), one query at a time on the connection, and
 * which PostgreSQL parses and plans anew each time. Prepared, a statement costs one round
 * trip after its first use on a connection, and queries sent together go out together.
 * (Statements on the database handle are built once, db/prepared.ts; a transaction's are
 * built each time.) Fixed-shape queries only: each SQL text stays prepared per connection.
 */
export function runPrepared<R>(query: { prepare(name: string): { execute(): Promise<R> } }): Promise<R> {
  return query.prepare('operation').execute();
}

/**
 * Claims the operation — a lease and the next attempt number, if it is unfinished and
 * nobody holds it — and reads, in the same statement, what the first permission check
 * needs (the delegation's state and roles, the requester's staff roles) and what the
 * effects commonly need (the requester's address, the organization's name).
 */
const claimStatement = preparedPerDb((db) =>
  db
    .update(operations)
    .set({
      state: 'running',
      attempts: sql`${operations.attempts} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${sql.placeholder('leaseSeconds')})`,
      updatedAt: sql`now()`,
    })
    .where(
      sql`${operations.id} = ${sql.placeholder('operationId')} and ${operations.state} in ('queued', 'running')
          and (${operations.leaseUntil} is null or ${operations.leaseUntil} < now())`,
    )
    .returning({
      ...getTableColumns(operations),
      delegation: sql<{ state: DelegationState; roles: string[]; pastEnd: boolean } | null>`(
        select json_build_object('state', d.state, 'roles', d.roles, 'pastEnd', coalesce(d.ends_at <= now(), false))
        from ${delegations} d where d.id = ${operations.delegationId})`,
      staffRoles: sql<string[] | null>`(
        select s.roles from ${staffAccess} s
        where s.user_id = ${operations.requestedBy} and s.partner_id = ${operations.partnerId})`,
      requesterEmail: sql<string | null>`(select u.email from ${users} u where u.id = ${operations.requestedBy})`,
      orgName: sql<string | null>`(select o.name from ${organizations} o where o.id = ${operations.clientOrgId})`,
    })
    .prepare('claim_operation'),
);

async function claimOperation(deps: WorkerDeps, operationId: string) {
  const [claimed] = await claimStatement(deps.db).execute({ operationId, leaseSeconds: deps.config.leaseSeconds });
  if (!claimed) return null;
  const { delegation, staffRoles, requesterEmail, orgName, ...operation } = claimed;
  return { operation: operation as Operation, delegation, staffRoles, requesterEmail, orgName };
}

/**
 * Why an attempt stopped, as the operation and its audit row record it (the partner and
 * the client read it): a failed query's reason without its parameters.
 */
function failureText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = redactQueryParams(error.message);
  return error.cause instanceof Error ? `${message} (${error.cause.message})` : message;
}

/** The error as the queue may keep it: its message and stack without a query's parameters. */
function redactedError(error: unknown, message: string): Error {
  const safe = new Error(message);
  if (error instanceof Error && error.stack)
    safe.stack = `Error: ${message}\n${error.stack
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .join('\n')}`;
  return safe;
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
  const claim = await claimOperation(deps, operationId);
  if (!claim) {
    const [current] = await deps.db
      .select({ state: operations.state })
      .from(operations)
      .where(eq(operations.id, operationId));
    if (current?.state === 'running') throw new OperationBusy('another worker is running this operation');
    return { outcome: 'skipped', state: current?.state ?? 'missing' };
  }
  const { operation } = claim;

  // The outcome, its audit and its webhook deliveries in one statement (atomic, one round trip), committed only
  // while the attempt is still this run's: a newer attempt owns it otherwise, and its
  // outcome will be recorded instead. Without a new result, the effect's recorded progress
  // stays. The audit is the operation's own row (services/audit/operation-trail.ts). A
  // temporary password that was not set is forgotten (a retry asked for later makes
  // another); one that was set keeps its record, which holds no secret by then.
  const finish = async (
    state: 'succeeded' | 'failed' | 'rejected',
    result: Record<string, unknown> | null,
    error: string | null,
  ) => {
    // postgres.js prepares its own statements (unlike drizzle's, see runPrepared). JSON goes
    // as text (`::text::jsonb`): postgres.js's json serializer, which drizzle replaces, plays no part.
    await deps.sql`
      with done as (
        update operations
        set state = ${state}, result = coalesce(${result ? JSON.stringify(result) : null}::text::jsonb, result),
            error = ${error}, lease_until = null, updated_at = now(), finished_at = now(),
            temporary_password = case when temporary_password ? 'setAt' then temporary_password end
        where id = ${operationId} and state = 'running' and attempts = ${operation.attempts}
        returning id, result
      )
      ${operationWebhookDeliveries(deps.sql, operation, state, error)}
      ${operationOutcomeAudit(deps.sql, operation, state, error)}`;
  };

  const decision = decideFor(await handler.capability(deps.db, operation), claim.delegation, claim.staffRoles);
  if (!decision.allowed) {
    await finish('rejected', null, `Not allowed when it ran: ${decision.reason}`);
    return { outcome: 'rejected', reason: decision.reason };
  }

  const ctx: EffectContext = {
    deps,
    operation,
    requesterEmail: claim.requesterEmail,
    orgName: claim.orgName,
    logger: options.logger,
    authorized: (write) =>
      deps.db.transaction(async (tx) => {
        const now = await lockedPermission(tx, operation, handler);
        if (!now.allowed) throw new OperationRejected(now.reason);
        return write(tx);
      }),
    audit: async (tx, change) => {
      await runPrepared(operationProgress(tx, operationId, change));
    },
  };

  let result: Record<string, unknown>;
  try {
    result = await handler.run(ctx);
  } catch (error) {
    const message = failureText(error);
    if (error instanceof OperationRejected) {
      await finish('rejected', null, `Not allowed when it ran: ${message}`);
      return { outcome: 'rejected', reason: message };
    }
    if (error instanceof OperationFailure || options.isFinalAttempt) {
      await finish('failed', null, message);
      return { outcome: 'failed', error: message };
    }
    // Back in the queue, and its audit row says why the last attempt did not finish.
    await deps.sql`
      with requeued as (
        update operations set state = 'queued', error = ${message}, lease_until = null, updated_at = now()
        where id = ${operationId} and attempts = ${operation.attempts}
        returning id
      )
      ${operationAttemptAudit(deps.sql, operationId, message, operation.attempts)}`;
    // The queue keeps what is thrown (its failed reason and stack, for days, on the job
    // board): the reason without the query's parameters, which may hold a password's hash
    // or its sealed copy.
    throw error instanceof OperationWaits ? error : redactedError(error, message);
  }
  // The effect is done: failing to record that is not a failure of the operation, even on
  // the last attempt. Retried here; if the database stays away, this attempt fails with the
  // operation still running, and once its lease runs out the reconciler runs it again —
  // which finds the effect done (the handlers record their progress) and records it.
  await withRetries(() => finish('succeeded', result, null));
  return { outcome: 'succeeded', result };
}
