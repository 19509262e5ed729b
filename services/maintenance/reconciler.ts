import { sql } from 'drizzle-orm';
import { type OperationKind, operationKinds } from '../../core/operation-kinds.ts';
import { delegations, emails, operations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { purgeEndedSessions } from '../accounts/sessions.ts';
import { purgeIdempotencyKeys } from '../shared/idempotency-keys.ts';
import { pruneExpiredRows, retentionPolicies } from './retention.ts';

/** Rows re-examined per kind and pass; the next pass takes the rest. */
const BATCH = 5000;
const CHUNK = 1000;
/**
 * How long one enqueue of the reconciler may wait for the queue backend. Not a request's
 * 3 s: a chunk of 1,000 replaced jobs is 1,000 state lookups, which the PostgreSQL backend
 * answers one query each, beside the workers' own.
 */
const ENQUEUE_TIMEOUT_MS = 60_000;

export interface ReconcileResult {
  invited: number;
  accepting: number;
  emails: number;
  operations: number;
}

/**
 * Finds every row whose work is due but not finished — recipients still `invited`,
 * acceptances still `accepting`, emails still `pending`, operations `queued` or `running`
 * past their lease — untouched for `minAgeSeconds`, and re-enqueues its job under its
 * deterministic id. A job still waiting, delayed or running is left alone; a missing one
 * (Redis flushed, restarted without persistence, down when the work was recorded, a
 * crash between commit and enqueue) is added; a finished one is replaced. PostgreSQL is
 * the source of truth: this is what makes that true when Redis loses work.
 */
export async function reconcile(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  options: { minAgeSeconds: number },
): Promise<ReconcileResult> {
  const age = sql`now() - make_interval(secs => ${options.minAgeSeconds})`;
  const replace = { replaceFinished: true, timeoutMs: ENQUEUE_TIMEOUT_MS };

  const invited = await deps.db.execute<{ id: string }>(sql`
    select id from ${delegations} where state = 'invited' and updated_at <= ${age}
    order by updated_at limit ${BATCH}`);
  for (let i = 0; i < invited.length; i += CHUNK) {
    const chunk = invited.slice(i, i + CHUNK).map((r) => ({ delegationId: r.id }));
    await deps.queues.enqueueBulk('send-offer', chunk, replace);
  }

  const accepting = await deps.db.execute<{ id: string }>(sql`
    select id from ${delegations} where state = 'accepting' and accepted_at <= ${age}
    order by accepted_at limit ${BATCH}`);
  for (const { id } of accepting) await deps.queues.enqueue('process-acceptance', { delegationId: id }, replace);

  const pending = await deps.db.execute<{ id: string }>(sql`
    select id from ${emails} where state = 'pending' and created_at <= ${age}
      and (lease_until is null or lease_until < now())
    order by created_at limit ${BATCH}`);
  for (let i = 0; i < pending.length; i += CHUNK) {
    const chunk = pending.slice(i, i + CHUNK).map((r) => ({ emailId: r.id }));
    await deps.queues.enqueueBulk('send-email', chunk, replace);
  }

  const unfinished = await deps.db.execute<{ id: string; kind: OperationKind }>(sql`
    select id, kind from ${operations}
    where updated_at <= ${age}
      and (state = 'queued' or (state = 'running' and (lease_until is null or lease_until < now())))
    order by updated_at limit ${BATCH}`);
  for (const { id, kind } of unfinished) {
    await deps.queues.enqueue(operationKinds[kind].job, { operationId: id }, replace);
  }

  // Housekeeping of the same kind: what has outlived its use.
  await purgeIdempotencyKeys(deps.db);
  await purgeEndedSessions(deps);
  const pruned = await pruneExpiredRows(deps);
  for (const [table, rows] of Object.entries(pruned)) {
    if (rows === 0) continue;
    const days = deps.config[retentionPolicies[table as keyof typeof pruned].days];
    deps.logger.info({ table, pruned: rows, days }, 'pruned rows past retention');
  }

  const result = {
    invited: invited.length,
    accepting: accepting.length,
    emails: pending.length,
    operations: unfinished.length,
  };
  if (Object.values(result).some((n) => n > 0)) deps.logger.info(result, 'reconciler re-enqueued unfinished work');
  return result;
}
