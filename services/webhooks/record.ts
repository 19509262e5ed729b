import { type SQL, sql } from 'drizzle-orm';
import type { DelegationEvent, DelegationState } from '../../core/delegation-machine.ts';
import { newId } from '../../core/ids.ts';
import { type EventActor, endedBy, type WebhookEventType } from '../../core/webhook-events.ts';
import type { DbOrTx, Sql } from '../../db/client.ts';

/**
 * The channel a commit that wrote deliveries notifies (NOTIFY is sent only at commit, and
 * not at all on rollback): workers listening on it hand the new deliveries to the queue at
 * once (./dispatch.ts). The reconciler catches any notification missed.
 */
export const WEBHOOK_CHANNEL = 'mandate_webhooks';

/** When the event happened: the transaction's time, as ISO 8601 in UTC. */
const occurredAt = `to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** A delivery's id: the event and the endpoint are known only in the statement. */
const deliveryId = `'whd_' || replace(gen_random_uuid()::text, '-', '')`;
/** The two, for statements written elsewhere (services/campaigns/completion.ts). */
export const occurredAtSql = sql.raw(occurredAt);
export const deliveryIdSql = sql.raw(deliveryId);

export interface NewWebhookEvent {
  type: WebhookEventType;
  partnerId: string;
  /** Never a password, token or secret. */
  data: Record<string, unknown>;
}

/**
 * Writes the deliveries of some events — one per (event, enabled endpoint of its partner
 * that takes its type) — inside the caller's transaction, so they exist exactly when the
 * change they report does. A partner without such an endpoint costs this one statement.
 * Returns how many deliveries were written.
 */
export async function recordWebhookEvents(db: DbOrTx, events: NewWebhookEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = events.map((e) => ({ id: newId('webhookEvent'), type: e.type, partner_id: e.partnerId, data: e.data }));
  const written = await db.execute(sql`
    insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload)
    select ${sql.raw(deliveryId)}, e.id, e.partner_id, ev.id, ev.type,
           jsonb_build_object('id', ev.id, 'type', ev.type, 'occurredAt', ${sql.raw(occurredAt)},
                              'partnerId', ev.partner_id, 'data', ev.data)
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ev(id text, type text, partner_id text, data jsonb)
    join webhook_endpoints e on e.partner_id = ev.partner_id and e.enabled and ev.type = any(e.events)
    returning pg_notify(${WEBHOOK_CHANNEL}, '')`);
  return written.length;
}

/** The one delivery of a test event, to one endpoint whatever its list (and even when turned off). */
export async function recordTestEvent(db: DbOrTx, endpointId: string, partnerId: string, actor: EventActor) {
  const eventId = newId('webhookEvent');
  const data = { message: 'A test event from Mandate. Nothing happened.', actor };
  const [row] = await db.execute<{ id: string }>(sql`
    insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload)
    select ${sql.raw(deliveryId)}, e.id, e.partner_id, ${eventId}, 'webhook.test',
           jsonb_build_object('id', ${eventId}::text, 'type', 'webhook.test', 'occurredAt', ${sql.raw(occurredAt)},
                              'partnerId', e.partner_id, 'data', ${JSON.stringify(data)}::jsonb)
    from webhook_endpoints e where e.id = ${endpointId} and e.partner_id = ${partnerId}
    returning id, pg_notify(${WEBHOOK_CHANNEL}, '')`);
  return row ? { deliveryId: row.id, eventId } : null;
}

/**
 * What a delegation's event adds to the common data, from the transition: which side ended
 * it, why it expired or failed, whether an extension was automatic, an amendment's terms.
 */
function delegationExtra(
  type: WebhookEventType,
  event: DelegationEvent | undefined,
  actor: EventActor,
  detail?: Record<string, unknown>,
) {
  switch (type) {
    case 'delegation.terminated':
      return { endedBy: endedBy(actor), ...(typeof detail?.reason === 'string' ? { reason: detail.reason } : {}) };
    case 'delegation.expired':
      return { reason: event === 'answer_timeout' ? 'no_answer' : 'end_reached' };
    case 'delegation.extended':
      return { automatic: event === 'auto_extend' };
    case 'delegation.amended':
      return { amendmentId: detail?.amendmentId ?? null, before: detail?.before ?? null, after: detail?.after ?? null };
    default:
      return {};
  }
}

/**
 * The rest of a statement that begins `with updated as (update delegations … returning
 * every column), events as (insert into delegation_events … returning id, delegation_id)`:
 * a CTE writing the webhook deliveries of those events. The event's id is derived from its
 * timeline row, so the same change is the same event on every endpoint. Data from the
 * updated rows (their state after the change); the client's name from its organization.
 */
export function delegationWebhookDeliveries(
  type: WebhookEventType,
  /** `event`: the transition, none for a notice. */
  change: { event?: DelegationEvent; actor: EventActor; detail?: Record<string, unknown> | undefined },
  from: DelegationState | null,
  more: Record<string, unknown> = {},
): SQL {
  const extra = { previousState: from, ...delegationExtra(type, change.event, change.actor, change.detail), ...more };
  return sql`, hooks as (
    insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload)
    select ${sql.raw(deliveryId)}, e.id, e.partner_id, 'evt_' || md5('delegation_event:' || ev.id), ${type},
           jsonb_build_object(
             'id', 'evt_' || md5('delegation_event:' || ev.id), 'type', ${type}::text,
             'occurredAt', ${sql.raw(occurredAt)}, 'partnerId', u.partner_id,
             'data', jsonb_build_object(
               'delegationId', u.id, 'state', u.state, 'offerId', u.offer_id, 'campaignId', u.campaign_id,
               'recipientEmail', u.recipient_email,
               'clientOrganization', case when o.id is null then null else jsonb_build_object('id', o.id, 'name', o.name) end,
               'roles', to_jsonb(u.roles), 'endsAt', u.ends_at, 'autoExtend', u.auto_extend,
               'reason', u.failure_reason,
               'actor', ${JSON.stringify(change.actor)}::jsonb
             ) || ${JSON.stringify(extra)}::jsonb)
    from events ev
    join updated u on u.id = ev.delegation_id
    left join organizations o on o.id = u.client_org_id
    join webhook_endpoints e on e.partner_id = u.partner_id and e.enabled and ${type} = any(e.events)
    returning pg_notify(${WEBHOOK_CHANNEL}, '')
  )`;
}

/**
 * The same for an operation's outcome, in postgres.js (the operation's finish is one
 * prepared statement, services/operations/runner.ts): a CTE after `done as (update
 * operations … returning id, result)`. Its event id is derived from the operation and its
 * outcome: an outcome is recorded once.
 */
export function operationWebhookDeliveries(
  sqlTag: Sql,
  operation: {
    id: string;
    kind: string;
    partnerId: string;
    clientOrgId: string;
    delegationId: string;
    requestedBy: string | null;
  },
  state: 'succeeded' | 'failed' | 'rejected',
  error: string | null,
) {
  const type: WebhookEventType = `operation.${state}`;
  const data = {
    operationId: operation.id,
    kind: operation.kind,
    delegationId: operation.delegationId,
    actor: { type: 'partner_user', id: operation.requestedBy },
    ...(error ? { error } : {}),
  };
  return sqlTag`, hooks as (
    insert into webhook_deliveries (id, endpoint_id, partner_id, event_id, event_type, payload)
    select ${sqlTag.unsafe(deliveryId)}, e.id, e.partner_id, 'evt_' || md5('operation:' || done.id || ':' || ${state}::text), ${type},
           jsonb_build_object(
             'id', 'evt_' || md5('operation:' || done.id || ':' || ${state}::text), 'type', ${type}::text,
             'occurredAt', ${sqlTag.unsafe(occurredAt)}, 'partnerId', e.partner_id,
             'data', ${JSON.stringify(data)}::text::jsonb
                     || jsonb_build_object('clientOrganization', jsonb_build_object('id', o.id, 'name', o.name),
                                           'result', done.result))
    from done
    join organizations o on o.id = ${operation.clientOrgId}
    join webhook_endpoints e on e.partner_id = ${operation.partnerId} and e.enabled and ${type}::text = any(e.events)
    returning pg_notify(${WEBHOOK_CHANNEL}, '')
  )`;
}

/**
 * A webhook about a delegation that is not a transition (an expiry notice, an amendment asked
 * for or refused): `eventKey` names the occurrence, so recording it twice gives the same
 * event id.
 */
export async function recordDelegationNotice(
  db: DbOrTx,
  delegationId: string,
  type: WebhookEventType,
  eventKey: string,
  more: Record<string, unknown>,
  actor: EventActor = { type: 'system', id: null },
): Promise<void> {
  await db.execute(sql`
    with events as (select ${eventKey}::text as id, ${delegationId}::text as delegation_id),
    updated as (select d.* from delegations d where d.id = ${delegationId})
    ${delegationWebhookDeliveries(type, { actor }, null, more)}
    select 1`);
}

/**
 * The webhook of a delegation created directly in a later state (an acceptance through a
 * reusable link): its row and its timeline row are already written in this transaction.
 */
export async function recordNewDelegationWebhook(
  db: DbOrTx,
  delegationEventId: number,
  type: WebhookEventType,
  change: { event: DelegationEvent; actor: EventActor; detail?: Record<string, unknown> | undefined },
): Promise<void> {
  await db.execute(sql`
    with events as (select id, delegation_id from delegation_events where id = ${delegationEventId}),
    updated as (select d.* from delegations d join events on d.id = events.delegation_id)
    ${delegationWebhookDeliveries(type, change, null)}
    select 1`);
}
