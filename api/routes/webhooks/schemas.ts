import { z } from '@hono/zod-openapi';
import { plainText } from '../../../core/text.ts';
import { subscribableEventTypes, webhookEventWords } from '../../../core/webhook-events.ts';
import { PageQuery } from '../../schemas.ts';

export const WebhookEventTypeSchema = z.enum(subscribableEventTypes).openapi('WebhookEventType', {
  description: `An event an endpoint may subscribe to:\n${subscribableEventTypes.map((t) => `- \`${t}\`: ${webhookEventWords[t]}`).join('\n')}`,
});

const exampleId = 'whe_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e';
const exampleDeliveryId = 'whd_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e';

export const WebhookIdParam = z
  .object({
    id: z
      .string()
      .min(1)
      .max(100)
      .openapi({ param: { name: 'id', in: 'path' }, example: exampleId }),
  })
  .openapi('WebhookId');

export const WebhookDeliveryParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' }, example: exampleId }),
  deliveryId: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'deliveryId', in: 'path' }, example: exampleDeliveryId }),
});

const description = plainText(200).openapi({ description: 'What the endpoint is for', example: 'Ticketing sync' });
const url = z.string().min(1).max(2000).openapi({
  description:
    'An `https` URL on a public address (no credentials, no private, loopback or link-local address); refused: 422 `WEBHOOK_URL_REFUSED`',
  example: 'https://hooks.example.com/mandate',
});
const events = z
  .array(WebhookEventTypeSchema)
  .min(1)
  .max(subscribableEventTypes.length)
  .openapi({ description: 'The event types to receive, at least one (`webhook.test` is sent only when asked for)' });

export const CreateWebhookBody = z
  .object({ url, events, description: description.optional() })
  .strict()
  .openapi('CreateWebhook');

export const UpdateWebhookBody = z
  .object({
    url: url.optional(),
    events: events.optional(),
    description: z
      .union([description, z.literal('')])
      .optional()
      .openapi({ description: 'What the endpoint is for; empty to clear it' }),
    enabled: z
      .boolean()
      .optional()
      .openapi({ description: 'false turns it off; true turns it on again and starts its count of failures afresh' }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'change at least one field')
  .openapi('UpdateWebhook');

export const WebhookEndpointSchema = z
  .object({
    id: z.string().openapi({ example: exampleId }),
    url: z.string(),
    description: z.string(),
    events: z.array(WebhookEventTypeSchema),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .openapi({ description: 'Why it is off: a `410 Gone`, 20 deliveries in a row failed for good, or a person' }),
    previousSecretUntil: z.string().nullable().openapi({
      description: 'While set, the secret before the last rotation still signs beside the new one, until then',
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('WebhookEndpoint');

export const WebhookWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({
    description: 'The signing secret (`whsec_` and base64): shown here once, never again',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).openapi('WebhookEndpointWithSecret');

export const WebhookDeliverySchema = z
  .object({
    id: z.string().openapi({ example: exampleDeliveryId }),
    eventId: z.string().openapi({ description: 'The `webhook-id` header: the same on every try and on a redelivery' }),
    eventType: z
      .string()
      .openapi({ description: 'A `WebhookEventType`, or `webhook.test`', example: 'delegation.accepted' }),
    state: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable().openapi({ description: 'When the next try is due (pending only)' }),
    lastStatus: z.number().int().nullable().openapi({ description: "The receiver's last HTTP status" }),
    lastError: z.string().nullable(),
    responseExcerpt: z.string().nullable().openapi({ description: "The first 2 KiB of the receiver's last answer" }),
    redeliveryOf: z.string().nullable().openapi({ description: 'The delivery this one sends again' }),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

export const WebhookDeliveryDetailSchema = WebhookDeliverySchema.extend({
  payload: z.unknown().openapi({ description: 'The body sent: the event envelope (see the `webhooks` section)' }),
}).openapi('WebhookDeliveryDetail');

export const DeliveriesQuery = PageQuery.extend({
  state: z.enum(['pending', 'delivered', 'failed']).optional(),
});

export const TestSentSchema = z
  .object({
    deliveryId: z.string().openapi({ example: exampleDeliveryId }),
    eventId: z.string().openapi({ example: 'evt_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
  })
  .openapi('WebhookTestSent');
