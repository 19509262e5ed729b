import type { DelegationEvent } from './delegation-machine.ts';

/**
 * Every event Mandate sends to a partner's webhooks, with the words the dashboard and the
 * OpenAPI document show for it. A closed list: an endpoint subscribes to some of these,
 * and nothing else is ever sent (`webhook.test` is sent only when asked for, whatever the
 * endpoint's list). The data of each is described in api/routes/webhooks/event-schemas.ts.
 */
export const webhookEventWords = {
  'delegation.accepted': "A client's admin accepted an offer; the access is being granted",
  'delegation.declined': "A client's admin declined an offer",
  'delegation.activated': 'The delegated access was granted: the delegation is active',
  'delegation.activation_failed': 'The delegated access could not be granted',
  'delegation.terminated': 'The partner or the client ended a delegation (`endedBy` says which)',
  'delegation.expiring': 'A delegation ends in 30, 7 or 1 days (`autoExtend` says whether it renews by itself)',
  'delegation.expired': 'A delegation reached its end, or an offer went unanswered for 90 days',
  'delegation.extended': 'A delegation was extended (by the partner, or renewed automatically)',
  'delegation.amended': 'The terms of an active delegation changed (a reduction, or an addition the client agreed to)',
  'delegation.amendment_proposed': 'The partner asked a client for more delegated access',
  'delegation.amendment_declined': 'A client refused to give more delegated access',
  'campaign.completed': 'Every offer of a campaign was sent or failed for good',
  'campaign.recipient_failed': "A campaign's offer could not be delivered to its recipient",
  'operation.succeeded': "An operation in a client's organization succeeded",
  'operation.failed': "An operation in a client's organization failed",
  'operation.rejected': 'An operation was refused when it ran: the access no longer allowed it',
  'webhook.test': 'A test event, sent when asked for',
} as const;

export type WebhookEventType = keyof typeof webhookEventWords;
export const webhookEventTypes = Object.keys(webhookEventWords) as [WebhookEventType, ...WebhookEventType[]];
/** The types an endpoint may subscribe to: all but the test event, which goes when asked for. */
export const subscribableEventTypes = webhookEventTypes.filter((t) => t !== 'webhook.test') as [
  WebhookEventType,
  ...WebhookEventType[],
];

export function isWebhookEventType(value: string): value is WebhookEventType {
  return Object.hasOwn(webhookEventWords, value);
}

/**
 * The webhook event a delegation's transition is, if any (sending an offer is not one: a
 * campaign reports on those as a whole). Undeliverable offers are the campaign's event.
 */
export const delegationWebhookEvent: Partial<Record<DelegationEvent, WebhookEventType>> = {
  accept: 'delegation.accepted',
  decline: 'delegation.declined',
  activate: 'delegation.activated',
  activation_failed: 'delegation.activation_failed',
  terminate: 'delegation.terminated',
  end_reached: 'delegation.expired',
  answer_timeout: 'delegation.expired',
  auto_extend: 'delegation.extended',
  extend: 'delegation.extended',
  amend: 'delegation.amended',
  send_failed: 'campaign.recipient_failed',
  bounced: 'campaign.recipient_failed',
};

/** Who an actor is, as a webhook says it. */
export type EventActor = { type: 'partner_user' | 'client_user' | 'system'; id: string | null };

/**
 * Which side ended a delegation, from who ended it: a client's admin (signed in, or from an
 * email's end link) is the client; the partner's staff, and what the partner's own acts end
 * through the system (an offer withdrawn, a campaign stopped), are the partner.
 */
export function endedBy(actor: EventActor): 'partner' | 'client' {
  return actor.type === 'client_user' ? 'client' : 'partner';
}

/** What every delivery carries (the body, as JSON). `data` never holds a password, token or secret. */
export interface WebhookEnvelope {
  id: string;
  type: WebhookEventType;
  occurredAt: string;
  partnerId: string;
  data: Record<string, unknown>;
}

/** Event ids: `evt_` and a UUIDv7 without dashes (core/ids.ts), or derived from the row that caused it. */
export const EVENT_ID_PREFIX = 'evt_';

/**
 * The waits before each retry of a delivery: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h and
 * 12 h — 12 tries over about three days. WEBHOOK_RETRY_SCALE shrinks them for tests.
 */
export const webhookRetryDelaysMs = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
  12 * 3_600_000,
  12 * 3_600_000,
  12 * 3_600_000,
] as const;
export const WEBHOOK_MAX_ATTEMPTS = webhookRetryDelaysMs.length + 1;

/** The wait after `attempts` tries have failed, or null when none is left. */
export function webhookRetryDelay(attempts: number, scale: number): number | null {
  const delay = webhookRetryDelaysMs[attempts - 1];
  return delay === undefined ? null : Math.max(1, Math.round(delay * scale));
}

/** Deliveries in a row that failed for good (each after its whole schedule) before an endpoint is turned off. */
export const WEBHOOK_DISABLE_AFTER_FAILURES = 20;
/** How long a rotated-out secret still signs, beside the new one. */
export const WEBHOOK_SECRET_OVERLAP_HOURS = 24;
/** Endpoints a partner may have. */
export const WEBHOOK_ENDPOINTS_MAX = 20;
/** Bytes of a receiver's answer kept with a delivery. */
export const WEBHOOK_RESPONSE_EXCERPT_BYTES = 2048;
