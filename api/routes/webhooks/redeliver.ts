import { createRoute } from '@hono/zod-openapi';
import { redeliverWebhook } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { WebhookDeliveryParams, WebhookDeliverySchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
  operationId: 'redeliverWebhook',
  tags: ['Webhooks'],
  summary: 'Send a delivered or failed delivery again',
  description:
    'Owners only. A new delivery of the same event: the same body and `webhook-id` (a receiver that has it can drop it), with its own tries. One still pending, or an endpoint turned off: 409 `CONFLICT`. Test events and redeliveries together: 30 an hour per endpoint (429 `RATE_LIMITED`).',
  security: needsScope('webhooks:write'),
  request: { params: WebhookDeliveryParams, headers: IdempotencyHeaders },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: WebhookDeliverySchema } } },
    ...problems(401, 403, 404, 409, 422, 429),
  },
});

export const registerRedeliverWebhook = (app: App) =>
  app.openapi(route, async (c) => {
    const { id, deliveryId } = c.req.valid('param');
    return c.json(await redeliverWebhook(c.var.deps, c.var.principal, id, deliveryId, c.var.requestId), 202);
  });
