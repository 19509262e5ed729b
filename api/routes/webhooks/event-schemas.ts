import { z } from '@hono/zod-openapi';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { operationKindNames } from '../../../core/operation-kinds.ts';
import {
  WEBHOOK_DISABLE_AFTER_FAILURES,
  type WebhookEventType,
  webhookEventTypes,
  webhookEventWords,
} from '../../../core/webhook-events.ts';
import type { App } from '../../env.ts';
import { RoleSchema } from '../../schemas.ts';

/**
 * What each webhook event carries, for the OpenAPI document's `webhooks` section: one entry
 * per type of core/webhook-events.ts (the record's type makes a missing one a compile error).
 * The data is written by services/webhooks/record.ts, services/campaigns/completion.ts and
 * the callers of `recordDelegationNotice`.
 */

const ActorSchema = z
  .object({
    type: z.enum(['partner_user', 'client_user', 'system']),
    id: z.string().nullable().openapi({ description: 'The user, or null for the system' }),
  })
  .openapi('WebhookActor', { description: 'Who caused the event' });

const ClientOrganizationSchema = z
  .object({ id: z.string(), name: z.string() })
  .openapi('WebhookClientOrganization', { description: "The client's organization" });

const DelegationStateSchema = z.enum(delegationStates);
const Terms = z.record(z.string(), z.unknown()).nullable().openapi({ description: "A delegation's terms" });

/** What every delegation event carries. */
const delegationData = {
  delegationId: z.string(),
  state: DelegationStateSchema.openapi({ description: 'The state after the event' }),
  previousState: DelegationStateSchema.nullable().openapi({
    description: 'The state before it (null for notices that change nothing)',
  }),
  offerId: z.string().nullable(),
  campaignId: z.string().nullable(),
  recipientEmail: z.string().nullable(),
  clientOrganization: ClientOrganizationSchema.nullable().openapi({
    description: 'Null until a client has accepted',
  }),
  roles: z.array(RoleSchema),
  endsAt: z.string().nullable(),
  autoExtend: z.boolean(),
  reason: z.string().nullable().openapi({ description: 'Why it failed, when it did' }),
  actor: ActorSchema,
};

const amendment = {
  amendmentId: z.string().nullable(),
  before: Terms,
  after: Terms,
};

const delegation = (extra: Record<string, z.ZodType> = {}) => z.object({ ...delegationData, ...extra });

const operation = (withError: boolean) =>
  z.object({
    operationId: z.string(),
    kind: z.enum(operationKindNames),
    delegationId: z.string(),
    clientOrganization: ClientOrganizationSchema,
    actor: ActorSchema,
    result: z.unknown().nullable().openapi({ description: "The operation's result, when it has one" }),
    ...(withError ? { error: z.string().openapi({ description: 'Why it did not succeed' }) } : {}),
  });

const eventData: Record<WebhookEventType, z.ZodObject> = {
  'delegation.accepted': delegation(),
  'delegation.declined': delegation(),
  'delegation.activated': delegation(),
  'delegation.activation_failed': delegation(),
  'delegation.terminated': delegation({
    endedBy: z.enum(['partner', 'client']).openapi({ description: 'Which side ended it' }),
    reason: z.string().nullable().optional().openapi({ description: 'The reason given, if any' }),
  }),
  'delegation.expiring': delegation({
    thresholdDays: z.number().int().openapi({ description: 'The notice: 30, 7 or 1 days before the end' }),
    daysLeft: z.number().int(),
  }),
  'delegation.expired': delegation({
    reason: z.enum(['end_reached', 'no_answer']).openapi({
      description: '`end_reached`: the delegation reached its end; `no_answer`: the offer went unanswered',
    }),
  }),
  'delegation.extended': delegation({
    automatic: z.boolean().openapi({ description: 'Renewed by itself rather than by the partner' }),
  }),
  'delegation.amended': delegation(amendment),
  'delegation.amendment_proposed': delegation({
    ...amendment,
    expiresAt: z.string().nullable().openapi({ description: 'When the request lapses unanswered' }),
  }),
  'delegation.amendment_declined': delegation(amendment),
  'campaign.completed': z.object({
    campaignId: z.string(),
    name: z.string(),
    offerId: z.string(),
    recipients: z.number().int(),
    rejectedAtSubmission: z.number().int(),
    byState: z
      .record(z.string(), z.number().int())
      .openapi({ description: "How many of the campaign's delegations are in each state" }),
    actor: ActorSchema,
  }),
  'campaign.recipient_failed': delegation(),
  'operation.succeeded': operation(false),
  'operation.failed': operation(true),
  'operation.rejected': operation(true),
  'webhook.test': z.object({ message: z.string(), actor: ActorSchema }),
};

const SignatureHeaders = z.object({
  'webhook-id': z.string().openapi({
    param: { name: 'webhook-id', in: 'header' },
    description: 'The event id (`evt_…`): the same on every try and redelivery; drop what you already have',
  }),
  'webhook-timestamp': z.string().openapi({
    param: { name: 'webhook-timestamp', in: 'header' },
    description: 'Unix seconds when this try was signed; reject ones far from your clock',
  }),
  'webhook-signature': z.string().openapi({
    param: { name: 'webhook-signature', in: 'header' },
    description:
      'Space-separated `v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}` with the secret (after `whsec_`, base64-decoded); two while a rotated-out secret still signs (Standard Webhooks)',
  }),
});

const pascal = (type: string) =>
  type
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/** Adds one webhook per event type to the document, each its envelope with its data. */
export function registerWebhookEvents(app: App): void {
  for (const type of webhookEventTypes) {
    const name = pascal(type);
    const envelope = z
      .object({
        id: z
          .string()
          .openapi({ description: 'The event id, as `webhook-id`', example: 'evt_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
        type: z.literal(type),
        occurredAt: z.string().openapi({ description: 'When it happened, ISO 8601 in UTC' }),
        partnerId: z.string(),
        data: eventData[type].openapi(`${name}Data`),
      })
      .openapi(`${name}Event`);
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `webhook${name}`,
      tags: ['Webhooks'],
      // The receiver checks the signature headers, not a token.
      security: [],
      summary: webhookEventWords[type],
      description: `Sent as a signed POST to each enabled endpoint subscribed to \`${type}\`. Answer 2xx within a few seconds; anything else is tried again for about three days. A \`410 Gone\` turns the endpoint off, as do ${WEBHOOK_DISABLE_AFTER_FAILURES} deliveries in a row that failed for good.`,
      request: {
        headers: SignatureHeaders,
        body: { required: true, content: { 'application/json': { schema: envelope } } },
      },
      responses: {
        200: { description: 'Received (any 2xx)' },
        410: { description: 'Gone: turns the endpoint off' },
      },
    });
  }
}
