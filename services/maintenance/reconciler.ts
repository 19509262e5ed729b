import { type SQL, sql } from 'drizzle-orm';
import { type OperationKind, operationKinds } from '../../core/operation-kinds.ts';
import { delegations, emails, operations, webhookDeliveries } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { withTimeout } from '../../lib/retry.ts';
import { holderAlive } from '../../lib/worker-process.ts';
import { purgeEndedSessions } from '../accounts/sessions.ts';
import { chunkWaitingRecipients } from '../campaigns/chunks.ts';
import { unrecordedReminders } from '../campaigns/reminders.ts';
import { purgeCampaignUploads } from '../campaigns/uploads.ts';
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
  /** `send-chunk` tokens added for campaign chunks the queue had lost. */
  invited: number;
  accepting: number;
  emails: number;
  /** `remind-campaign` jobs added for reminders whose emails were not all written. */
  reminders: number;
  operations: number;
  /** `deliver-webhook` jobs for deliveries due whose job the queue had lost. */
  webhooks: number;
}

/**
 * Campaign recipients: those waiting without a chunk (a campaign created before chunks, a
 * chunking cut short) are put in chunks; then, if the queue holds fewer `send-chunk`
 * tokens than there are chunks still to send (Redis flushed or restarted, a crash between
 * commit and enqueue), the missing tokens are added under the ids of chunks no live
 * process holds. Tokens are interchangeable (docs/adr/0027): counting them is enough.
 * Returns the tokens added.
 */
async function resumeCampaignSends(deps: Pick<Deps, 'db' | 'queues' | 'config'>, age: SQL): Promise<number> {
  const unchunked = await deps.db.execute<{ campaign_id: string }>(sql`
    select distinct campaign_id from ${delegations}
    where state = 'invited' and send_chunk is null and campaign_id is not null and updated_at <= ${age}
    limit ${CHUNK}`);
  for (const { campaign_id } of unchunked) {
    await deps.db.transaction((tx) => chunkWaitingRecipients(tx, deps.config, campaign_id));
  }
  const [left] = await deps.db.execute<{ pending: number }>(sql`
    select count(*)::int as pending from send_chunks where done_at is null`);
  const pending = left?.pending ?? 0;
  if (pending === 0) return 0;
  const counts = await withTimeout(ENQUEUE_TIMEOUT_MS, () =>
    deps.queues.queue('campaign-mail').getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
  );
  const missing = pending - Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (missing <= 0) return 0;
  const idle = await deps.db.execute<{ campaign_id: string; chunk: number }>(sql`
    select campaign_id, chunk from send_chunks
    where done_at is null and updated_at <= ${age}
      and (lease_until is null or lease_until < now()
           or not ${holderAlive(sql.raw('lease_holder'), deps.config.processStaleSeconds)})
    order by updated_at limit ${Math.min(missing, BATCH)}`);
  for (let i = 0; i < idle.length; i += CHUNK) {
    const tokens = idle.slice(i, i + CHUNK).map((r) => ({ campaignId: r.campaign_id, chunk: r.chunk }));
    await deps.queues.enqueueBulk('send-chunk', tokens, { replaceFinished: true, timeoutMs: ENQUEUE_TIMEOUT_MS });
  }
  return idle.length;
}

/**
 * Finds every row whose work is due but not finished — recipients still `invited`,
 * acceptances still `accepting`, emails still `pending`, campaign reminders not yet
 * written, operations `queued` or `running`
 * past their lease, webhook deliveries due — untouched for `minAgeSeconds`, and re-enqueues its job under its
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

  const invited = await resumeCampaignSends(deps, age);

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

  // Reminders whose emails are not all in the outbox (the queue lost the job, or was down at the click).
  const reminders = await unrecordedReminders(deps.db, age, BATCH);
  for (const reminder of reminders) await deps.queues.enqueue('remind-campaign', reminder, replace);

  const unfinished = await deps.db.execute<{ id: string; kind: OperationKind }>(sql`
    select id, kind from ${operations}
    where updated_at <= ${age}
      and (state = 'queued' or (state = 'running' and (lease_until is null or lease_until < now())))
    order by updated_at limit ${BATCH}`);
  for (const { id, kind } of unfinished) {
    await deps.queues.enqueue(operationKinds[kind].job, { operationId: id }, replace);
  }

  // Webhook deliveries due (a try whose wait is over, or one never handed over) with no try running.
  const deliveries = await deps.db.execute<{ id: string }>(sql`
    select id from ${webhookDeliveries} where state = 'pending' and next_attempt_at <= ${age}
      and (lease_until is null or lease_until < now())
    order by next_attempt_at limit ${BATCH}`);
  for (let i = 0; i < deliveries.length; i += CHUNK) {
    const chunk = deliveries.slice(i, i + CHUNK).map((r) => ({ deliveryId: r.id }));
    await deps.queues.enqueueBulk('deliver-webhook', chunk, replace);
  }

  // Housekeeping of the same kind: what has outlived its use.
  await purgeIdempotencyKeys(deps.db);
  await purgeCampaignUploads(deps.db);
  await purgeEndedSessions(deps);
  const pruned = await pruneExpiredRows(deps);
  for (const [table, rows] of Object.entries(pruned)) {
    if (rows === 0) continue;
    const days = deps.config[retentionPolicies[table as keyof typeof pruned].days];
    deps.logger.info({ table, pruned: rows, days }, 'pruned rows past retention');
  }

  // Processes gone for a day: their leases ended long ago.
  await deps.db.execute(sql`delete from worker_processes where beat_at < now() - interval '1 day'`);

  const result = {
    invited,
    accepting: accepting.length,
    emails: pending.length,
    reminders: reminders.length,
    operations: unfinished.length,
    webhooks: deliveries.length,
  };
  if (Object.values(result).some((n) => n > 0)) deps.logger.info(result, 'reconciler re-enqueued unfinished work');
  return result;
}
