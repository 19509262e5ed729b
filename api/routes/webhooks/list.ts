import { createRoute, z } from '@hono/zod-openapi';
import { listWebhookEndpoints } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { WebhookEndpointSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  operationId: 'listWebhooks',
  tags: ['Webhooks'],
  summary: "The partner's webhook endpoints",
  description: 'Owners only. Never the signing secret.',
  security: needsScope('read'),
  responses: {
    200: {
      description: 'The endpoints',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(WebhookEndpointSchema) }).openapi('WebhookEndpointList'),
        },
      },
    },
    ...problems(401, 403),
  },
});

export const registerListWebhooks = (app: App) =>
  app.openapi(route, async (c) => c.json({ items: await listWebhookEndpoints(c.var.deps, c.var.principal) }, 200));
