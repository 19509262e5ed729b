import { createRoute } from '@hono/zod-openapi';
import { updateWebhookEndpoint } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { UpdateWebhookBody, WebhookEndpointSchema, WebhookIdParam } from './schemas.ts';

export const route = createRoute({
  method: 'patch',
  path: '/v1/webhooks/{id}',
  operationId: 'updateWebhook',
  tags: ['Webhooks'],
  summary: "Change a webhook endpoint's URL, events or description, or turn it off or on",
  description:
    'Owners only. A new URL is checked as at registration (422 `WEBHOOK_URL_REFUSED`). Turning an endpoint on again starts its count of failures afresh; events that happened while it was off are not sent.',
  security: needsScope('webhooks:write'),
  request: {
    params: WebhookIdParam,
    body: { required: true, content: { 'application/json': { schema: UpdateWebhookBody } } },
  },
  responses: {
    200: { description: 'Changed', content: { 'application/json': { schema: WebhookEndpointSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export const registerUpdateWebhook = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await updateWebhookEndpoint(
        c.var.deps,
        c.var.principal,
        c.req.valid('param').id,
        c.req.valid('json'),
        c.var.requestId,
      ),
      200,
    ),
  );
