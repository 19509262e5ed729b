import { createRoute } from '@hono/zod-openapi';
import { getWebhookDelivery } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { WebhookDeliveryDetailSchema, WebhookDeliveryParams } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries/{deliveryId}',
  operationId: 'getWebhookDelivery',
  tags: ['Webhooks'],
  summary: 'One delivery, with the body it sends',
  description: 'Owners only.',
  security: needsScope('read'),
  request: { params: WebhookDeliveryParams },
  responses: {
    200: { description: 'The delivery', content: { 'application/json': { schema: WebhookDeliveryDetailSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

export const registerGetWebhookDelivery = (app: App) =>
  app.openapi(route, async (c) => {
    const { id, deliveryId } = c.req.valid('param');
    return c.json(await getWebhookDelivery(c.var.deps, c.var.principal, id, deliveryId), 200);
  });
