import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { deliveryIdSql, occurredAtSql, WEBHOOK_CHANNEL } from '../webhooks/record.ts';

/**
 * Marks complete the campaigns none of whose recipients is still `invited` (each offer
 * sent, failed for good, or ended), and writes their `campaign.completed` webhooks in the
 * same statement — once per campaign: the guard is `completed_at is null`.
 *
 * Called after a chunk's last recipient is recorded (in its own statement, after that
 * commit: of two chunks finishing at once, the one whose check runs last sees both), and
 * by the lifecycle sweep, which catches whatever that missed (a worker killed in between,
 * the last recipient ended by a stop or an acceptance). `campaignIds` limits it to those.
 */
export async function completeCampaigns(db: DbOrTx, campaignIds?: string[]): Promise<string[]> {
  if (campaignIds?.length === 0) return [];
  // Each id its own parameter: drizzle spreads an array into a list, which `::text[]` cannot cast.
  const only = campaignIds
    ? sql`and c.id in (${sql.join(
        campaignIds.map((id) => sql`${id}`),
        sql`, `,
      )})`
    : sql``;
  const rows = await db.execute<{ id: string }>(sql`
    with done as (
      update campaigns c set completed_at = now()
      where c.completed_at is null ${only}
        and not exists (select 1 from delegations d where d.campaign_id = c.id and d.state = 'invited')
      returning c.id, c.partner_id, c.name, c.offer_id, c.total, c.rejected_count
    ),
    counts as (
      select s.campaign_id, jsonb_object_agg(s.state, s.n) as by_state
      from (select d.campaign_id, d.state, count(*) as n
            from delegations d join done on d.campaign_id = done.id group by 1, 2) s
      group by 1
    ),
    hooks as (
      insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload)
      select ${deliveryIdSql}, e.id, e.partner_id,
             'evt_' || md5('campaign_completed:' || done.id), 'campaign.completed',
             jsonb_build_object(
               'id', 'evt_' || md5('campaign_completed:' || done.id), 'type', 'campaign.completed',
               'occurredAt', ${occurredAtSql},
               'partnerId', done.partner_id,
               'data', jsonb_build_object(
                 'campaignId', done.id, 'name', done.name, 'offerId', done.offer_id,
                 'recipients', done.total, 'rejectedAtSubmission', done.rejected_count,
                 'byState', coalesce(counts.by_state, '{}'::jsonb),
                 'actor', jsonb_build_object('type', 'system', 'id', null)))
      from done
      left join counts on counts.campaign_id = done.id
      join webhook_endpoints e on e.partner_id = done.partner_id and e.enabled
                               and 'campaign.completed' = any(e.events)
      returning pg_notify(${WEBHOOK_CHANNEL}, '')
    )
    select id from done`);
  return rows.map((r) => r.id);
}
