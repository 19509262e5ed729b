import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { type DelegationState, delegationStates } from '../../core/delegation-machine.ts';
import { seesAllOperations, seesClientOrganizations } from '../../core/partner-permissions.ts';
import type { Db } from '../../db/client.ts';
import {
  campaigns,
  delegationEvents,
  delegations,
  type OperationState,
  operationStates,
  operations,
} from '../../db/schema/index.ts';
import type { StateCounts } from '../campaigns/campaigns.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/**
 * What the operator dashboard reads in aggregate. Every query is scoped to the reader's
 * partner, and refused to staff with access none (`assertSeesPartnerData`).
 */
type Reader = Pick<PartnerPrincipal, 'partnerId' | 'isOwner' | 'roles'>;

/**
 * Open dashboard pages refresh every 3 s per tab; the partner-wide aggregates that scan the
 * most (campaign summaries, the charts) are shared by every request for this long.
 */
export const AGGREGATE_TTL_MS = 3000;
const shared = new WeakMap<Db, Map<string, { until: number; value: Promise<unknown> }>>();

function sharedAggregate<T>(db: Db, key: string, compute: () => Promise<T>): Promise<T> {
  let entries = shared.get(db);
  if (!entries) {
    entries = new Map();
    shared.set(db, entries);
  }
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.until > now) return hit.value as Promise<T>;
  for (const [k, entry] of entries) if (entry.until <= now) entries.delete(k);
  const value = compute();
  entries.set(key, { until: now + AGGREGATE_TTL_MS, value });
  // A failure is not kept: the next request asks again.
  value.catch(() => entries?.delete(key));
  return value;
}

const zeroStates = (): StateCounts => Object.fromEntries(delegationStates.map((s) => [s, 0])) as StateCounts;

/** The partner's delegations by state (all eight, zeros included). */
export async function delegationCounts(db: Db, reader: Reader): Promise<StateCounts> {
  assertSeesPartnerData(reader);
  const rows = await db
    .select({ state: delegations.state, n: count() })
    .from(delegations)
    .where(eq(delegations.partnerId, reader.partnerId))
    .groupBy(delegations.state);
  const counts = zeroStates();
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** Operations by state; staff without access to client organizations get none. */
export async function operationCounts(db: Db, principal: PartnerPrincipal): Promise<Record<OperationState, number>> {
  assertSeesPartnerData(principal);
  const counts = Object.fromEntries(operationStates.map((s) => [s, 0])) as Record<OperationState, number>;
  if (!seesClientOrganizations(principal)) return counts;
  const rows = await db
    .select({ state: operations.state, n: count() })
    .from(operations)
    .where(
      and(
        eq(operations.partnerId, principal.partnerId),
        seesAllOperations(principal) ? undefined : eq(operations.requestedBy, principal.userId),
      ),
    )
    .groupBy(operations.state);
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

export interface CampaignSummary {
  id: string;
  name: string;
  total: number;
  createdAt: Date;
  counts: StateCounts;
}

/** The partner's latest campaigns with their recipients by state, in two queries. */
export async function recentCampaigns(db: Db, reader: Reader, limit = 50): Promise<CampaignSummary[]> {
  assertSeesPartnerData(reader);
  const { partnerId } = reader;
  return sharedAggregate(db, `campaigns:${partnerId}:${limit}`, () => readRecentCampaigns(db, partnerId, limit));
}

async function readRecentCampaigns(db: Db, partnerId: string, limit: number): Promise<CampaignSummary[]> {
  const rows = await db
    .select({ id: campaigns.id, name: campaigns.name, total: campaigns.total, createdAt: campaigns.createdAt })
    .from(campaigns)
    .where(eq(campaigns.partnerId, partnerId))
    .orderBy(desc(campaigns.id))
    .limit(limit);
  if (rows.length === 0) return [];
  const grouped = await db
    .select({ campaignId: delegations.campaignId, state: delegations.state, n: count() })
    .from(delegations)
    .where(
      inArray(
        delegations.campaignId,
        rows.map((r) => r.id),
      ),
    )
    .groupBy(delegations.campaignId, delegations.state);
  const byCampaign = new Map(rows.map((r) => [r.id, { ...r, counts: zeroStates() }]));
  for (const g of grouped) {
    const summary = g.campaignId ? byCampaign.get(g.campaignId) : undefined;
    if (summary) summary.counts[g.state as DelegationState] = g.n;
  }
  return [...byCampaign.values()];
}

export interface Bucket {
  /** Start of the bucket. */
  at: Date;
  n: number;
}

/**
 * Offer emails accepted by the mail server per minute over the last hour (60 buckets,
 * oldest first), for the partner or one campaign — judged by `offered_at`, the moment
 * each send was recorded.
 */
export async function sendsPerMinute(db: Db, reader: Reader, campaignId?: string): Promise<Bucket[]> {
  assertSeesPartnerData(reader);
  const { partnerId } = reader;
  // Only the last hour's rows are read (delegations_partner_offered_idx), then bucketed.
  const rows = await db.execute<{ at: string; n: number }>(sql`
    with minutes as (
      select generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()), interval '1 minute') as at
    ), sends as (
      select date_trunc('minute', offered_at) as at, count(*)::int as n
      from ${delegations}
      where partner_id = ${partnerId} and offered_at >= date_trunc('minute', now()) - interval '59 minutes'
        ${campaignId ? sql`and campaign_id = ${campaignId}` : sql``}
      group by 1
    )
    select m.at, coalesce(s.n, 0) as n from minutes m left join sends s on s.at = m.at order by m.at`);
  return rows.map((r) => ({ at: new Date(r.at), n: Number(r.n) }));
}

/** Acceptances per day over the last `days` days (oldest first), by `accepted_at`. */
export async function acceptancesPerDay(db: Db, reader: Reader, days = 30): Promise<Bucket[]> {
  assertSeesPartnerData(reader);
  const { partnerId } = reader;
  return sharedAggregate(db, `accepted:${partnerId}:${days}`, () => readAcceptancesPerDay(db, partnerId, days));
}

async function readAcceptancesPerDay(db: Db, partnerId: string, days: number): Promise<Bucket[]> {
  const rows = await db.execute<{ at: string; n: number }>(sql`
    with days as (
      select generate_series(date_trunc('day', now()) - make_interval(days => ${days - 1}), date_trunc('day', now()), interval '1 day') as at
    ), accepted as (
      select date_trunc('day', accepted_at) as at, count(*)::int as n
      from ${delegations}
      where partner_id = ${partnerId} and accepted_at >= date_trunc('day', now()) - make_interval(days => ${days - 1})
      group by 1
    )
    select d.at, coalesce(a.n, 0) as n from days d left join accepted a on a.at = d.at order by d.at`);
  return rows.map((r) => ({ at: new Date(r.at), n: Number(r.n) }));
}

export interface SendRate {
  /** Emails recorded sent over the last minute, per second. */
  lastMinutePerSecond: number;
  /** From the campaign's creation to its latest send, per second (null before the first). */
  overallPerSecond: number | null;
  firstSentAt: Date | null;
  lastSentAt: Date | null;
}

/** How fast one of the reader's partner's campaigns' emails go out. */
export async function campaignSendRate(db: Db, reader: Reader, campaignId: string): Promise<SendRate> {
  assertSeesPartnerData(reader);
  const [row] = await db.execute<{
    recent: number;
    sent: number;
    started: string;
    first: string | null;
    last: string | null;
  }>(sql`
    select count(*) filter (where d.offered_at >= now() - interval '60 seconds')::int as recent,
           count(d.offered_at)::int as sent,
           c.created_at as started, min(d.offered_at) as first, max(d.offered_at) as last
    from ${campaigns} c left join ${delegations} d on d.campaign_id = c.id
    where c.id = ${campaignId} and c.partner_id = ${reader.partnerId}
    group by c.id, c.created_at`);
  if (!row) return { lastMinutePerSecond: 0, overallPerSecond: null, firstSentAt: null, lastSentAt: null };
  const last = row.last ? new Date(row.last) : null;
  const seconds = last ? (last.getTime() - new Date(row.started).getTime()) / 1000 : 0;
  return {
    lastMinutePerSecond: Number(row.recent) / 60,
    overallPerSecond: last && seconds > 0 ? Number(row.sent) / seconds : null,
    firstSentAt: row.first ? new Date(row.first) : null,
    lastSentAt: last,
  };
}

export interface RecentDecline {
  delegationId: string;
  recipientEmail: string | null;
  recipientCompany: string | null;
  campaignId: string | null;
  declinedAt: Date;
  /** Who declined, as recorded: the signed-in admin's address, or "the recipient of the offer email". */
  declinedBy: string | null;
}

/**
 * The partner's latest declines, newest first: the overview lists them beside its counts
 * (the owners are emailed each one too). A declined delegation never changes again, so its
 * `updated_at` is the moment of the decline.
 */
export async function recentDeclines(db: Db, reader: Reader, limit = 10): Promise<RecentDecline[]> {
  assertSeesPartnerData(reader);
  const { partnerId } = reader;
  return sharedAggregate(db, `declines:${partnerId}:${limit}`, () => readRecentDeclines(db, partnerId, limit));
}

async function readRecentDeclines(db: Db, partnerId: string, limit: number): Promise<RecentDecline[]> {
  // delegations_partner_state_idx finds the partner's declined rows; only those are sorted.
  const rows = await db
    .select({
      delegationId: delegations.id,
      recipientEmail: delegations.recipientEmail,
      recipientCompany: delegations.recipientCompany,
      campaignId: delegations.campaignId,
      declinedAt: delegations.updatedAt,
      // Qualified by hand: drizzle leaves the columns of a one-table select unqualified.
      declinedBy: sql<string | null>`(select e.detail ->> 'by' from ${delegationEvents} e
        where e.delegation_id = ${delegations}.id and e.event = 'decline' limit 1)`,
    })
    .from(delegations)
    .where(and(eq(delegations.partnerId, partnerId), eq(delegations.state, 'declined')))
    .orderBy(desc(delegations.updatedAt), desc(delegations.id))
    .limit(limit);
  return rows;
}
