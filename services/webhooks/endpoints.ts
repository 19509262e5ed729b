import { randomBytes } from 'node:crypto';
import { and, count, desc, eq, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { hasControlChars } from '../../core/text.ts';
import {
  isWebhookEventType,
  subscribableEventTypes,
  WEBHOOK_ENDPOINTS_MAX,
  WEBHOOK_SECRET_OVERLAP_HOURS,
  type WebhookEventType,
} from '../../core/webhook-events.ts';
import {
  type WebhookDelivery,
  type WebhookEndpoint,
  webhookDeliveries,
  webhookEndpoints,
} from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';
import { sealSecret } from '../../lib/secret-box.ts';
import { webhookUrlProblem } from '../../lib/webhook-http.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { webhookSecretContext } from './deliver.ts';
import { recordTestEvent, WEBHOOK_CHANNEL } from './record.ts';

/**
 * A partner's webhook endpoints, managed by its owners (and their tokens with the
 * `webhooks:write` scope, core/token-scopes.ts): what the API and the dashboard show and
 * change. The signing secret is returned once, at creation and at each rotation.
 */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
  /** Why it is off, when Mandate turned it off (a 410, deliveries failing for good) or a person did. */
  disabledReason: string | null;
  /** While set and in the future, the secret before the last rotation still signs beside the new one. */
  previousSecretUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDeliveryView {
  id: string;
  /** The `webhook-id` header: the same on every try and on a redelivery. */
  eventId: string;
  eventType: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** When the next try is due (pending only). */
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  /** The first 2 KiB of the receiver's last answer. */
  responseExcerpt: string | null;
  redeliveryOf: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

type EndpointDeps = Pick<Deps, 'db'> & { config: Pick<Config, 'linkSecret' | 'webhookAllowPrivate'> };

export interface NewWebhookEndpoint {
  url: string;
  events: readonly string[];
  description?: string | undefined;
}

export interface WebhookEndpointChange {
  url?: string | undefined;
  events?: readonly string[] | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
}

function requireOwner(principal: PartnerPrincipal): void {
  if (!principal.isOwner) throw new AppError('NOT_AUTHORIZED', "Only the partner's owners manage webhooks");
}

export function endpointView(row: WebhookEndpoint): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: subscribableEventTypes.filter((t) => row.events.includes(t)),
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    previousSecretUntil:
      row.previousSecretUntil && row.previousSecretUntil > new Date() ? row.previousSecretUntil.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function deliveryView(row: WebhookDelivery): WebhookDeliveryView {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? row.nextAttemptAt.toISOString() : null,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    responseExcerpt: row.responseExcerpt,
    redeliveryOf: row.redeliveryOf,
    createdAt: row.createdAt.toISOString(),
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}

/** The event types asked for, checked: known, subscribable, at least one. Sorted as the table. */
export function checkEventTypes(events: readonly string[]): WebhookEventType[] {
  const unknown = events.filter((e) => !isWebhookEventType(e) || e === 'webhook.test');
  if (unknown.length > 0) {
    throw new AppError('VALIDATION_FAILED', `Unknown event types: ${unknown.slice(0, 10).join(', ')}`, {
      issues: [{ path: 'events', message: `unknown event types: ${unknown.slice(0, 10).join(', ')}` }],
      details: { known: subscribableEventTypes },
    });
  }
  const chosen = subscribableEventTypes.filter((t) => events.includes(t));
  if (chosen.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'Choose at least one event type', {
      issues: [{ path: 'events', message: 'at least one event type' }],
    });
  }
  return chosen;
}

/** What a description may be: what the API's schema says, for the dashboard's forms too. */
export const WEBHOOK_DESCRIPTION_MAX = 200;

function checkDescription(description: string | undefined): void {
  if (description === undefined) return;
  if (description.length > WEBHOOK_DESCRIPTION_MAX || hasControlChars(description)) {
    const message = `A description is one line of at most ${WEBHOOK_DESCRIPTION_MAX} characters, without control characters`;
    throw new AppError('VALIDATION_FAILED', message, { issues: [{ path: 'description', message }] });
  }
}

async function checkUrl(config: EndpointDeps['config'], url: string): Promise<string> {
  const problem = await webhookUrlProblem(url, { allowPrivate: config.webhookAllowPrivate });
  if (problem) {
    throw new AppError('WEBHOOK_URL_REFUSED', problem, { issues: [{ path: 'url', message: problem }] });
  }
  return new URL(url).toString();
}

/** A new signing secret: `whsec_` and 32 random bytes in base64, as the Standard Webhooks libraries take it. */
function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

async function findEndpoint(deps: Pick<Deps, 'db'>, principal: PartnerPrincipal, id: string): Promise<WebhookEndpoint> {
  requireId('webhookEndpoint', id, 'webhook');
  const [row] = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.partnerId, principal.partnerId)));
  if (!row) throw new AppError('NOT_FOUND', 'No such webhook');
  return row;
}

const audit = (
  tx: Parameters<typeof recordAudit>[0],
  principal: PartnerPrincipal,
  action:
    | 'webhook.create'
    | 'webhook.update'
    | 'webhook.delete'
    | 'webhook.rotate_secret'
    | 'webhook.test'
    | 'webhook.redeliver',
  targetId: string,
  detail: Record<string, unknown>,
  requestId?: string,
) =>
  recordAudit(tx, {
    actorUserId: principal.userId,
    partnerId: principal.partnerId,
    orgId: principal.partnerId,
    action,
    targetType: 'webhook',
    targetId,
    outcome: 'succeeded',
    requestId,
    detail: { ...detail, byToken: principal.tokenId },
  });

/** Registers an endpoint. Returns it with its signing secret, shown this once. */
export async function createWebhookEndpoint(
  deps: EndpointDeps,
  principal: PartnerPrincipal,
  input: NewWebhookEndpoint,
  requestId?: string,
): Promise<WebhookEndpointView & { secret: string }> {
  requireOwner(principal);
  const events = checkEventTypes(input.events);
  checkDescription(input.description);
  const url = await checkUrl(deps.config, input.url);
  const id = newId('webhookEndpoint');
  const secret = newSigningSecret();
  return deps.db.transaction(async (tx) => {
    // One at a time per partner, so two creations cannot both pass the cap.
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext('webhook_endpoints'), hashtext(${principal.partnerId}))`,
    );
    const [existing] = await tx
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.partnerId, principal.partnerId));
    if ((existing?.n ?? 0) >= WEBHOOK_ENDPOINTS_MAX) {
      throw new AppError(
        'VALIDATION_FAILED',
        `A partner has at most ${WEBHOOK_ENDPOINTS_MAX} webhooks; delete one first`,
      );
    }
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id,
        partnerId: principal.partnerId,
        url,
        description: input.description ?? '',
        events,
        secretSealed: sealSecret(deps.config.linkSecret, secret, webhookSecretContext(id)),
        createdBy: principal.userId,
      })
      .returning();
    if (!row) throw new Error('the webhook was not inserted');
    await audit(tx, principal, 'webhook.create', id, { url, events }, requestId);
    return { ...endpointView(row), secret };
  });
}

export async function listWebhookEndpoints(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
): Promise<WebhookEndpointView[]> {
  requireOwner(principal);
  const rows = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.partnerId, principal.partnerId))
    .orderBy(webhookEndpoints.id);
  return rows.map(endpointView);
}

export async function getWebhookEndpoint(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  id: string,
): Promise<WebhookEndpointView> {
  requireOwner(principal);
  return endpointView(await findEndpoint(deps, principal, id));
}

/**
 * Changes an endpoint's URL, events, description, or turns it on or off. Turning it on
 * again starts its count of failures afresh; events recorded while it was off were not
 * kept for it.
 */
export async function updateWebhookEndpoint(
  deps: EndpointDeps,
  principal: PartnerPrincipal,
  id: string,
  change: WebhookEndpointChange,
  requestId?: string,
): Promise<WebhookEndpointView> {
  requireOwner(principal);
  await findEndpoint(deps, principal, id);
  const events = change.events === undefined ? undefined : checkEventTypes(change.events);
  checkDescription(change.description);
  const url = change.url === undefined ? undefined : await checkUrl(deps.config, change.url);
  // What changes, as the audit records it.
  const changed = {
    ...(url !== undefined ? { url } : {}),
    ...(events !== undefined ? { events } : {}),
    ...(change.description !== undefined ? { description: change.description } : {}),
  };
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...changed,
        ...(change.enabled === true ? { enabled: true, disabledReason: null, failedInARow: 0 } : {}),
        ...(change.enabled === false ? { enabled: false, disabledReason: `Turned off by ${principal.email}` } : {}),
        updatedAt: sql`now()`,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.partnerId, principal.partnerId)))
      .returning();
    if (!row) throw new AppError('NOT_FOUND', 'No such webhook');
    await audit(
      tx,
      principal,
      'webhook.update',
      id,
      { ...changed, ...(change.enabled !== undefined ? { enabled: change.enabled } : {}) },
      requestId,
    );
    return endpointView(row);
  });
}

/** Deletes an endpoint and its deliveries; nothing more is sent to it. */
export async function deleteWebhookEndpoint(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  id: string,
  requestId?: string,
): Promise<void> {
  requireOwner(principal);
  const endpoint = await findEndpoint(deps, principal, id);
  await deps.db.transaction(async (tx) => {
    const deleted = await tx
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.partnerId, principal.partnerId)))
      .returning({ id: webhookEndpoints.id });
    if (deleted.length === 0) throw new AppError('NOT_FOUND', 'No such webhook');
    await audit(tx, principal, 'webhook.delete', id, { url: endpoint.url }, requestId);
  });
}

/** Rotated-out secrets that may sign at once beside the current one. */
const WEBHOOK_PREVIOUS_SECRETS_MAX = 2;

/**
 * Replaces the signing secret. For WEBHOOK_SECRET_OVERLAP_HOURS the old one signs beside
 * it (two signatures in `webhook-signature`), so the receiver can switch without a gap; a
 * second rotation within that time keeps both older ones signing (three signatures), and
 * a third drops the oldest. Returns the new secret, once.
 */
export async function rotateWebhookSecret(
  deps: EndpointDeps,
  principal: PartnerPrincipal,
  id: string,
  requestId?: string,
): Promise<WebhookEndpointView & { secret: string }> {
  requireOwner(principal);
  await findEndpoint(deps, principal, id);
  const secret = newSigningSecret();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        // The secret replaced, and those replaced within the overlap before it (at most
        // WEBHOOK_PREVIOUS_SECRETS_MAX): a second rotation soon after the first (a double
        // click, a retried request) must not stop the secret the receiver holds from signing.
        previousSecretSealed: sql`array_to_string((string_to_array(
          case when ${webhookEndpoints.previousSecretUntil} > now()
               then concat_ws(' ', ${webhookEndpoints.secretSealed}, ${webhookEndpoints.previousSecretSealed})
               else ${webhookEndpoints.secretSealed} end, ' '))[1:${WEBHOOK_PREVIOUS_SECRETS_MAX}], ' ')`,
        previousSecretUntil: sql`now() + make_interval(hours => ${WEBHOOK_SECRET_OVERLAP_HOURS})`,
        secretSealed: sealSecret(deps.config.linkSecret, secret, webhookSecretContext(id)),
        updatedAt: sql`now()`,
      })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.partnerId, principal.partnerId)))
      .returning();
    if (!row) throw new AppError('NOT_FOUND', 'No such webhook');
    await audit(
      tx,
      principal,
      'webhook.rotate_secret',
      id,
      { previousSecretUntil: row.previousSecretUntil },
      requestId,
    );
    return { ...endpointView(row), secret };
  });
}

/** Queues a `webhook.test` event to this endpoint alone, whatever its events (and even when off: it says so). */
export async function sendWebhookTest(
  deps: Pick<Deps, 'db' | 'rateLimits'>,
  principal: PartnerPrincipal,
  id: string,
  requestId?: string,
): Promise<{ deliveryId: string; eventId: string }> {
  requireOwner(principal);
  await findEndpoint(deps, principal, id);
  await deps.rateLimits.consume('webhookSendsPerEndpoint', id);
  return deps.db.transaction(async (tx) => {
    const sent = await recordTestEvent(tx, id, principal.partnerId, { type: 'partner_user', id: principal.userId });
    if (!sent) throw new AppError('NOT_FOUND', 'No such webhook');
    await audit(tx, principal, 'webhook.test', id, sent, requestId);
    return sent;
  });
}

/** A page of an endpoint's deliveries, newest first; `state` filters. The cursor is opaque. */
export async function listWebhookDeliveries(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  id: string,
  options: { state?: 'pending' | 'delivered' | 'failed' | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
  requireOwner(principal);
  await findEndpoint(deps, principal, id);
  const after = decodeDeliveryCursor(options.cursor);
  const rows = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, id),
        options.state ? eq(webhookDeliveries.state, options.state) : undefined,
        // Keyed on the time to the millisecond (what the cursor holds) and the id.
        after
          ? sql`(${createdMs}, ${webhookDeliveries.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(createdMs), desc(webhookDeliveries.id))
    .limit(options.limit + 1);
  const items = rows.slice(0, options.limit);
  const last = items.at(-1);
  return {
    items: items.map(deliveryView),
    nextCursor: rows.length > options.limit && last ? encodeDeliveryCursor(last) : null,
  };
}

/** One delivery, with the body it sends. */
export async function getWebhookDelivery(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDeliveryView & { payload: unknown }> {
  requireOwner(principal);
  const row = await findDelivery(deps, principal, endpointId, deliveryId);
  return { ...deliveryView(row), payload: row.payload };
}

async function findDelivery(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  endpointId: string,
  deliveryId: string,
) {
  requireId('webhookEndpoint', endpointId, 'webhook');
  requireId('webhookDelivery', deliveryId, 'delivery');
  const [row] = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.partnerId, principal.partnerId),
      ),
    );
  if (!row) throw new AppError('NOT_FOUND', 'No such delivery');
  return row;
}

/**
 * Sends a delivered or failed delivery again, as a new delivery of the same event: the same
 * body and `webhook-id` (a receiver that has it can drop it), its own tries. One still
 * pending is being delivered already (CONFLICT); so is one whose endpoint is off.
 */
export async function redeliverWebhook(
  deps: Pick<Deps, 'db' | 'rateLimits'>,
  principal: PartnerPrincipal,
  endpointId: string,
  deliveryId: string,
  requestId?: string,
): Promise<WebhookDeliveryView> {
  requireOwner(principal);
  const original = await findDelivery(deps, principal, endpointId, deliveryId);
  if (original.state === 'pending') throw new AppError('CONFLICT', 'This delivery is still being tried');
  const endpoint = await findEndpoint(deps, principal, endpointId);
  if (!endpoint.enabled) throw new AppError('CONFLICT', 'This webhook is turned off: turn it on first');
  await deps.rateLimits.consume('webhookSendsPerEndpoint', endpointId);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookDeliveries)
      .values({
        id: newId('webhookDelivery'),
        endpointId,
        partnerId: principal.partnerId,
        eventId: original.eventId,
        eventType: original.eventType,
        payload: original.payload,
        redeliveryOf: original.id,
      })
      .returning();
    if (!row) throw new Error('the delivery was not inserted');
    await tx.execute(sql`select pg_notify(${WEBHOOK_CHANNEL}, '')`);
    await audit(
      tx,
      principal,
      'webhook.redeliver',
      endpointId,
      { deliveryId: row.id, of: original.id, eventId: original.eventId },
      requestId,
    );
    return deliveryView(row);
  });
}

const createdMs = sql`date_trunc('milliseconds', ${webhookDeliveries.createdAt})`;

function encodeDeliveryCursor(row: WebhookDelivery): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

function decodeDeliveryCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^whd_[0-9a-f]{32}$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new AppError('VALIDATION_FAILED', 'The cursor is not one this API handed out', {
      issues: [{ path: 'cursor', message: 'unknown cursor' }],
    });
  }
  return { createdAt, id };
}
