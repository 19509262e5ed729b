import { createRoute } from '@hono/zod-openapi';
import { sendWebhookTest } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { TestSentSchema, WebhookIdParam } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/test',
  operationId: 'testWebhook',
  tags: ['Webhooks'],
  summary: 'Send a `webhook.test` event to this endpoint',
  description:
    'Owners only. Queued for this endpoint alone, whatever its events (and even when it is turned off); follow it in its deliveries. Test events and redeliveries together: 30 an hour per endpoint (429 `RATE_LIMITED`).',
  security: needsScope('webhooks:write'),
  request: { params: WebhookIdParam, headers: IdempotencyHeaders },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: TestSentSchema } } },
    ...problems(401, 403, 404, 409, 422, 429),
  },
});

export const registerTestWebhook = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await sendWebhookTest(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId), 202),
  );
