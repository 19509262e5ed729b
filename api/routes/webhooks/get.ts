import { createRoute } from '@hono/zod-openapi';
import { getWebhookEndpoint } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { WebhookEndpointSchema, WebhookIdParam } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  operationId: 'getWebhook',
  tags: ['Webhooks'],
  summary: 'One webhook endpoint',
  description: "Owners only. Never the signing secret. Another partner's: 404.",
  security: needsScope('read'),
  request: { params: WebhookIdParam },
  responses: {
    200: { description: 'The endpoint', content: { 'application/json': { schema: WebhookEndpointSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

export const registerGetWebhook = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await getWebhookEndpoint(c.var.deps, c.var.principal, c.req.valid('param').id), 200),
  );
