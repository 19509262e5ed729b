import { createRoute, z } from '@hono/zod-openapi';
import { listWebhookDeliveries } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { DeliveriesQuery, WebhookDeliverySchema, WebhookIdParam } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['Webhooks'],
  summary: "An endpoint's deliveries, newest first",
  description:
    "Owners only. Each with its state, tries, the receiver's last status and the first 2 KiB of its answer, and when the next try is due; `state` filters. Deliveries are kept for a limited time.",
  security: needsScope('read'),
  request: { params: WebhookIdParam, query: DeliveriesQuery },
  responses: {
    200: {
      description: 'A page of deliveries',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(WebhookDeliverySchema), nextCursor: z.string().nullable() })
            .openapi('WebhookDeliveryPage'),
        },
      },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerListWebhookDeliveries = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await listWebhookDeliveries(c.var.deps, c.var.principal, c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  );
