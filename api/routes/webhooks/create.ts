import { createRoute } from '@hono/zod-openapi';
import { createWebhookEndpoint } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { CreateWebhookBody, WebhookWithSecretSchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  operationId: 'createWebhook',
  tags: ['Webhooks'],
  summary: 'Register a webhook endpoint (its signing secret is shown once)',
  description:
    'Owners only (403 `NOT_AUTHORIZED` for other staff). The URL must be `https` on a public address: a private, loopback or link-local one, or one with credentials, is refused with 422 `WEBHOOK_URL_REFUSED`; an unknown event type with 422 `VALIDATION_FAILED`. At most 20 endpoints per partner.',
  security: needsScope('webhooks:write'),
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateWebhookBody } } },
  },
  responses: {
    201: { description: 'Registered', content: { 'application/json': { schema: WebhookWithSecretSchema } } },
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export const registerCreateWebhook = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await createWebhookEndpoint(c.var.deps, c.var.principal, c.req.valid('json'), c.var.requestId), 201),
  );
