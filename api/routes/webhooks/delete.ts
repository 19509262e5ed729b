import { createRoute } from '@hono/zod-openapi';
import { deleteWebhookEndpoint } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { WebhookIdParam } from './schemas.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  operationId: 'deleteWebhook',
  tags: ['Webhooks'],
  summary: 'Delete a webhook endpoint and its deliveries',
  description: 'Owners only. Nothing more is sent to it, pending deliveries included.',
  security: needsScope('webhooks:write'),
  request: { params: WebhookIdParam },
  responses: {
    204: { description: 'Deleted' },
    ...problems(401, 403, 404, 422),
  },
});

export const registerDeleteWebhook = (app: App) =>
  app.openapi(route, async (c) => {
    await deleteWebhookEndpoint(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId);
    return c.body(null, 204);
  });
