import { createRoute, z } from '@hono/zod-openapi';
import { MAX_DURATION_DAYS } from '../../../core/offer-rules.ts';
import { extendDelegation } from '../../../services/delegations/extension.ts';
import type { App } from '../../env.ts';
import { bearerSecurity, IdempotencyHeaders, IdParam, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/extend',
  tags: ['Delegations'],
  summary: 'Extend an active delegation',
  description: `Moves the end date \`days\` later; the new end may be at most ${MAX_DURATION_DAYS} days from now (422 otherwise). Owners and staff with full access only.`,
  security: bearerSecurity,
  request: {
    params: IdParam('DelegationId', 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e'),
    headers: IdempotencyHeaders,
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ days: z.number().int().min(1).max(MAX_DURATION_DAYS).openapi({ example: 90 }) })
            .strict()
            .openapi('Extension'),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Extended',
      content: { 'application/json': { schema: z.object({ endsAt: z.string().datetime() }).openapi('Extended') } },
    },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export const registerExtendDelegation = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await extendDelegation(
        c.var.deps,
        c.var.principal,
        c.req.valid('param').id,
        c.req.valid('json').days,
        c.var.requestId,
      ),
      200,
    ),
  );
