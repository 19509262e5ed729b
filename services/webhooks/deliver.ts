import { and, eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { webhookDisabledNotice } from '../../core/emails/notifications.ts';
import {
  WEBHOOK_DISABLE_AFTER_FAILURES,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RESPONSE_EXCERPT_BYTES,
  webhookRetryDelay,
} from '../../core/webhook-events.ts';
import type { Db } from '../../db/client.ts';
import { type WebhookEndpoint, webhookDeliveries, webhookEndpoints } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';
import type { Logger } from '../../lib/logger.ts';
import { countWebhookDelivery } from '../../lib/metrics.ts';
import { openSecret } from '../../lib/secret-box.ts';
import { postWebhook } from '../../lib/webhook-http.ts';
import { recordAudit } from '../audit/record.ts';
import { notifyContext, partnerOwnerAddresses } from '../mail/notifications.ts';
import { enqueueEmails, recordEmails } from '../mail/outbox.ts';

/** Thrown to have the queue try a delivery again after `retryAfterMs` (the `webhook` backoff). */
export class WebhookWaits extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'WebhookWaits';
  }
}

/** What sealed secrets are sealed for: one endpoint's signing secret. */
export const webhookSecretContext = (endpointId: string) => `webhook-secret:${endpointId}`;

/**
 * The `webhook-signature` header: the current secret's signature and, while a rotated-out
 * secret still signs (WEBHOOK_SECRET_OVERLAP_HOURS), the previous one's, space-separated as
 * the Standard Webhooks specification allows — a receiver holding either verifies.
 */
export function signatureHeader(secrets: string[], eventId: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(eventId, timestamp, body)).join(' ');
}

/**
 * The secrets that sign now: the current one, and those rotated out until their overlap
 * ends. Null when the current one does not open (LINK_SECRET changed since it was sealed).
 */
export function signingSecrets(endpoint: WebhookEndpoint, linkSecret: string, now: Date): string[] | null {
  const open = (sealed: string) => openSecret(linkSecret, sealed, webhookSecretContext(endpoint.id));
  const current = open(endpoint.secretSealed);
  if (!current) return null;
  // Space-separated: the secrets rotated out within the overlap, newest first.
  const previous =
    endpoint.previousSecretSealed && endpoint.previousSecretUntil && endpoint.previousSecretUntil > now
      ? endpoint.previousSecretSealed.split(' ').map(open)
      : [];
  return [current, ...previous.filter((secret): secret is string => secret !== null)];
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type DeliverOutcome =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'skipped'; state: string };

type DeliverDeps = Pick<Deps, 'db' | 'queues' | 'logger'> & {
  config: Pick<
    Config,
    'linkSecret' | 'webhookAllowPrivate' | 'webhookTimeoutMs' | 'webhookRetryScale' | 'mailFrom' | 'publicUrl'
  >;
};

/**
 * Makes one try of a delivery. Idempotent: only a `pending` row whose time has come is
 * tried, under a lease (another run of the job waits). A 2xx delivers it; a `410 Gone`
 * fails it and turns its endpoint off; anything else — another status, no answer within
 * WEBHOOK_TIMEOUT_MS, an address that is not allowed — fails the try, and the delivery
 * waits for the next (core/webhook-events.ts) or, after the last, fails for good. Every try
 * sends the same body and `webhook-id`, signed afresh: a receiver that got a try whose
 * answer Mandate never saw (a worker killed meanwhile) gets it again with the same id.
 */
export async function deliverWebhook(deps: DeliverDeps, deliveryId: string, logger: Logger): Promise<DeliverOutcome> {
  const leaseSeconds = Math.ceil(deps.config.webhookTimeoutMs / 1000) + 30;
  const [claimed] = await deps.db
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${leaseSeconds})`,
      lastAttemptAt: sql`now()`,
      dispatched: true,
    })
    .where(
      sql`${webhookDeliveries.id} = ${deliveryId} and ${webhookDeliveries.state} = 'pending'
          and ${webhookDeliveries.nextAttemptAt} <= now()
          and (${webhookDeliveries.leaseUntil} is null or ${webhookDeliveries.leaseUntil} < now())`,
    )
    .returning();
  if (!claimed) return notClaimed(deps.db, deliveryId);
  const [endpoint] = await deps.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, claimed.endpointId));
  const ownTry = and(
    eq(webhookDeliveries.id, deliveryId),
    eq(webhookDeliveries.state, 'pending'),
    eq(webhookDeliveries.attempts, claimed.attempts),
  );
  if (!endpoint?.enabled) {
    const reason = `Not sent: the webhook was turned off${endpoint?.disabledReason ? ` (${endpoint.disabledReason})` : ''}`;
    await deps.db.update(webhookDeliveries).set({ state: 'failed', lastError: reason, leaseUntil: null }).where(ownTry);
    countWebhookDelivery('endpoint_off');
    return { outcome: 'failed', reason };
  }

  const now = new Date();
  const secrets = signingSecrets(endpoint, deps.config.linkSecret, now);
  if (!secrets) {
    // No later try can sign either: failed now, with what to do, rather than retried for days.
    const reason =
      "Not sent: the webhook's signing secret cannot be opened (LINK_SECRET changed since it was made); rotate the secret";
    await deps.db.update(webhookDeliveries).set({ state: 'failed', lastError: reason, leaseUntil: null }).where(ownTry);
    countWebhookDelivery('failed');
    logger.error({ deliveryId, endpointId: endpoint.id }, 'webhook signing secret does not open with LINK_SECRET');
    return { outcome: 'failed', reason };
  }
  const body = JSON.stringify(claimed.payload);
  const headers = {
    'webhook-id': claimed.eventId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatureHeader(secrets, claimed.eventId, now, body),
  };
  const answer = await postWebhook(endpoint.url, headers, body, {
    allowPrivate: deps.config.webhookAllowPrivate,
    timeoutMs: deps.config.webhookTimeoutMs,
    maxResponseBytes: WEBHOOK_RESPONSE_EXCERPT_BYTES,
  });

  if (answer.kind === 'answered' && answer.status >= 200 && answer.status < 300) {
    // Whatever try it was: the receiver has it.
    await deps.db.transaction(async (tx) => {
      await tx
        .update(webhookDeliveries)
        .set({
          state: 'delivered',
          deliveredAt: sql`now()`,
          lastStatus: answer.status,
          lastError: null,
          responseExcerpt: answer.excerpt,
          leaseUntil: null,
        })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.state, 'pending')));
      await tx
        .update(webhookEndpoints)
        .set({ failedInARow: 0 })
        .where(and(eq(webhookEndpoints.id, endpoint.id), sql`${webhookEndpoints.failedInARow} <> 0`));
    });
    countWebhookDelivery('delivered');
    return { outcome: 'delivered', status: answer.status };
  }

  const status = answer.kind === 'answered' ? answer.status : null;
  const excerpt = answer.kind === 'answered' ? answer.excerpt : null;
  const reason = failureReason(answer);
  if (answer.kind === 'refused') countWebhookDelivery('refused');

  /** Fails the delivery for good with this try's answer, if the try is still the latest. */
  const failTry = async (tx: Tx) =>
    (
      await tx
        .update(webhookDeliveries)
        .set({ state: 'failed', lastStatus: status, lastError: reason, responseExcerpt: excerpt, leaseUntil: null })
        .where(ownTry)
        .returning({ id: webhookDeliveries.id })
    ).length === 1;

  if (status === 410) {
    const emailIds = await deps.db.transaction(async (tx) => {
      const failed = await failTry(tx);
      // A try overtaken by a newer one (its lease ran out) decides nothing.
      return failed ? turnOff(deps, tx, endpoint, 'its receiver answered 410 Gone') : [];
    });
    await enqueueEmails(deps, emailIds);
    countWebhookDelivery('gone');
    return { outcome: 'failed', reason };
  }

  const delay =
    claimed.attempts >= WEBHOOK_MAX_ATTEMPTS
      ? null
      : webhookRetryDelay(claimed.attempts, deps.config.webhookRetryScale);
  if (delay === null) {
    const emailIds = await deps.db.transaction(async (tx) => {
      const failed = await failTry(tx);
      if (!failed) return [];
      const [counted] = await tx
        .update(webhookEndpoints)
        .set({ failedInARow: sql`${webhookEndpoints.failedInARow} + 1` })
        .where(eq(webhookEndpoints.id, endpoint.id))
        .returning({ failedInARow: webhookEndpoints.failedInARow });
      return counted && counted.failedInARow >= WEBHOOK_DISABLE_AFTER_FAILURES
        ? turnOff(deps, tx, endpoint, `${counted.failedInARow} deliveries in a row failed after every retry`)
        : [];
    });
    await enqueueEmails(deps, emailIds);
    countWebhookDelivery('failed');
    logger.info({ deliveryId, reason }, 'webhook delivery failed for good');
    return { outcome: 'failed', reason };
  }
  await deps.db
    .update(webhookDeliveries)
    .set({
      lastStatus: status,
      lastError: reason,
      responseExcerpt: excerpt,
      leaseUntil: null,
      nextAttemptAt: sql`now() + make_interval(secs => ${delay / 1000})`,
    })
    .where(ownTry);
  countWebhookDelivery('retrying');
  throw new WebhookWaits(`webhook delivery try ${claimed.attempts} failed: ${reason}`, delay);
}

/** A try that did not claim: done already, not due yet, or held by another run. */
async function notClaimed(db: Db, deliveryId: string): Promise<DeliverOutcome> {
  const [row] = await db
    .select({
      state: webhookDeliveries.state,
      waitMs: sql<number>`greatest(0, extract(epoch from greatest(${webhookDeliveries.nextAttemptAt}, coalesce(${webhookDeliveries.leaseUntil}, now())) - now()) * 1000)::int`,
    })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, deliveryId));
  if (row?.state === 'pending')
    throw new WebhookWaits('webhook delivery not due yet, or held by another try', Math.max(row.waitMs, 50));
  return { outcome: 'skipped', state: row?.state ?? 'missing' };
}

function failureReason(answer: Awaited<ReturnType<typeof postWebhook>>): string {
  switch (answer.kind) {
    case 'refused':
      return `Not sent: ${answer.reason}`;
    case 'unreachable':
      return answer.reason;
    case 'answered':
      return answer.status >= 300 && answer.status < 400
        ? `Answered ${answer.status} (redirects are not followed${answer.location ? `; to ${answer.location.slice(0, 200)}` : ''})`
        : `Answered ${answer.status}`;
  }
}

/**
 * Turns an endpoint off, with the reason, and writes the emails to the partner's owners —
 * in the caller's transaction; the caller enqueues the returned ids after its commit.
 */
async function turnOff(deps: DeliverDeps, tx: Tx, endpoint: WebhookEndpoint, reason: string): Promise<string[]> {
  const [off] = await tx
    .update(webhookEndpoints)
    .set({ enabled: false, disabledReason: reason, updatedAt: sql`now()` })
    .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.enabled, true)))
    .returning({ id: webhookEndpoints.id });
  if (!off) return [];
  await recordAudit(tx, {
    actorUserId: null,
    partnerId: endpoint.partnerId,
    orgId: endpoint.partnerId,
    action: 'webhook.disable',
    targetType: 'webhook',
    targetId: endpoint.id,
    outcome: 'succeeded',
    detail: { url: endpoint.url, reason },
  });
  const ctx = notifyContext(deps.config);
  const owners = await partnerOwnerAddresses(tx, endpoint.partnerId);
  const content = webhookDisabledNotice({
    url: endpoint.url,
    reason,
    endpointUrl: `${ctx.publicUrl}/dashboard/webhooks/${endpoint.id}`,
  });
  const ids = await recordEmails(
    tx,
    ctx.messageIdDomain,
    owners.map((toEmail) => ({
      dedupeKey: `webhook-off:${endpoint.id}:${endpoint.updatedAt.toISOString()}:${toEmail}`,
      kind: 'webhook_disabled',
      toEmail,
      content,
    })),
  );
  return ids;
}
