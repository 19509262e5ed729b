import { type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { delegationStates, delegationTransitions } from '../../core/delegation-machine.ts';
import {
  auditEvents,
  delegationBounces,
  delegationEvents,
  delegations,
  devMail,
  emails,
  expiryNotices,
  operations,
  signups,
  webhookDeliveries,
} from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';

/** Rows deleted per statement, and statements per table and pass: a backlog goes over several passes. */
const BATCH = 5000;
const BATCHES_PER_PASS = 20;

/**
 * States nothing leads out of. `failed` is not one: an operator may send its offer again
 * (`retry_send`), and its timeline goes on.
 */
const endedStates = delegationStates.filter((state) => Object.keys(delegationTransitions[state]).length === 0);
const endedList = sql.raw(endedStates.map((s) => `'${s}'`).join(', '));

interface RetentionPolicy {
  table: PgTable;
  /** The setting (lib/config.ts) that says how many days. */
  days: keyof Pick<
    Config,
    | 'auditRetentionDays'
    | 'emailRetentionDays'
    | 'operationRetentionDays'
    | 'delegationEventRetentionDays'
    | 'expiryNoticeRetentionDays'
    | 'bounceReportRetentionDays'
    | 'signupRetentionDays'
    | 'devMailRetentionDays'
    | 'webhookDeliveryRetentionDays'
  >;
  /**
   * The rows past `cutoff` (now − days) that nothing needs any more. Each condition
   * starts with the column its index serves (migration 0028).
   */
  expired(cutoff: SQL): SQL;
}

/**
 * What is pruned, after how long, and why that is safe: the one table of retention
 * (ADR 21). The audit trail has its own, longer, retention.
 */
export const retentionPolicies = {
  audit_events: {
    table: auditEvents,
    days: 'auditRetentionDays',
    // Not a row still pending: an operation in flight records its changes and outcome there.
    expired: (cutoff) => sql`${auditEvents.createdAt} < ${cutoff} and ${auditEvents.outcome} <> 'pending'`,
  },
  // Sent or failed for good: nothing reads the row again. Its dedupe key could then be
  // written anew, but every key names a one-time event (a transition the state machine
  // allows once, an expiry notice claimed in expiry_notices, a week's digest claimed in
  // digest_weeks, a time window) long past. Links in the email do not need the row: they
  // are derived from LINK_SECRET (ADR 2, 4). Pending rows are never pruned.
  emails: {
    table: emails,
    days: 'emailRetentionDays',
    expired: (cutoff) => sql`${emails.createdAt} < ${cutoff} and ${emails.state} in ('sent', 'failed')`,
  },
  // Delivered or failed for good: no worker takes it again. A redelivery is a new row.
  webhook_deliveries: {
    table: webhookDeliveries,
    days: 'webhookDeliveryRetentionDays',
    expired: (cutoff) =>
      sql`${webhookDeliveries.createdAt} < ${cutoff} and ${webhookDeliveries.state} in ('delivered', 'failed')`,
  },
  // Finished: no worker will take it again; its audit row keeps the record.
  operations: {
    table: operations,
    days: 'operationRetentionDays',
    expired: (cutoff) => sql`${operations.createdAt} < ${cutoff} and ${operations.finishedAt} < ${cutoff}
      and ${operations.state} in ('succeeded', 'failed', 'rejected')`,
  },
  // A timeline goes whole, once its delegation has been over for the retention; the
  // delegation row stays (links, operations and the audit trail name it).
  delegation_events: {
    table: delegationEvents,
    days: 'delegationEventRetentionDays',
    expired: (cutoff) => sql`${delegationEvents.createdAt} < ${cutoff} and exists (
      select 1 from ${delegations} d where d.id = ${delegationEvents.delegationId}
        and d.state in (${endedList}) and coalesce(d.ended_at, d.updated_at) < ${cutoff})`,
  },
  // A report has done its work when it arrives (the `bounced` event and the reply stay on
  // the delegation); kept a while for the operator to read. Bounded in rows per delegation too
  // (services/campaigns/bounces.ts).
  delegation_bounces: {
    table: delegationBounces,
    days: 'bounceReportRetentionDays',
    expired: (cutoff) => sql`${delegationBounces.receivedAt} < ${cutoff}`,
  },
  // A notice is only ever due before its end date: past it, the claim guards nothing.
  expiry_notices: {
    table: expiryNotices,
    days: 'expiryNoticeRetentionDays',
    expired: (cutoff) => sql`${expiryNotices.endsAt} < ${cutoff}`,
  },
  // Its link stops working when it expires or is used; the row holds a password hash.
  signups: {
    table: signups,
    days: 'signupRetentionDays',
    expired: (cutoff) => sql`coalesce(${signups.usedAt}, ${signups.expiresAt}) < ${cutoff}`,
  },
  dev_mail: {
    table: devMail,
    days: 'devMailRetentionDays',
    expired: (cutoff) => sql`${devMail.createdAt} < ${cutoff}`,
  },
} as const satisfies Record<string, RetentionPolicy>;

export type RetainedTable = keyof typeof retentionPolicies;

/**
 * Deletes what has outlived its retention, table by table, at most `batch` rows per
 * statement so no statement holds its locks long; called by the reconciler's
 * housekeeping, the only thing that prunes. Returns how many rows went from each table.
 *
 * Rows are picked by `ctid` (one form for every table, composite keys included) and the
 * condition is checked again by the delete, so a row changed in between is left alone.
 */
export async function pruneExpiredRows(
  deps: Pick<Deps, 'db' | 'config'>,
  options: { batch?: number } = {},
): Promise<Record<RetainedTable, number>> {
  const batch = options.batch ?? BATCH;
  const pruned = {} as Record<RetainedTable, number>;
  for (const [name, policy] of Object.entries(retentionPolicies) as [RetainedTable, RetentionPolicy][]) {
    const expired = policy.expired(sql`now() - make_interval(days => ${deps.config[policy.days]})`);
    pruned[name] = 0;
    for (let i = 0; i < BATCHES_PER_PASS; i++) {
      const gone = await deps.db.execute(sql`
        delete from ${policy.table}
        where ctid = any(array(select ctid from ${policy.table} where ${expired} limit ${batch})) and ${expired}`);
      pruned[name] += gone.count;
      if (gone.count < batch) break;
    }
  }
  return pruned;
}
