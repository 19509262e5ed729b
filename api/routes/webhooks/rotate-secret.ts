import { createRoute } from '@hono/zod-openapi';
import { WEBHOOK_SECRET_OVERLAP_HOURS } from '../../../core/webhook-events.ts';
import { rotateWebhookSecret } from '../../../services/webhooks/endpoints.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { WebhookIdParam, WebhookWithSecretSchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/webhooks/{id}/rotate-secret',
  operationId: 'rotateWebhookSecret',
  tags: ['Webhooks'],
  summary: 'Replace the signing secret (the new one is shown once)',
  description: `Owners only. For ${WEBHOOK_SECRET_OVERLAP_HOURS} hours (until \`previousSecretUntil\`) deliveries carry two signatures, by the old secret and the new, so the receiver can switch without a gap; rotating again within that time drops the oldest.`,
  security: needsScope('webhooks:write'),
  request: { params: WebhookIdParam, headers: IdempotencyHeaders },
  responses: {
    200: { description: 'Rotated', content: { 'application/json': { schema: WebhookWithSecretSchema } } },
    ...problems(401, 403, 404, 409, 422),
  },
});

export const registerRotateWebhookSecret = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await rotateWebhookSecret(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId), 200),
  );
