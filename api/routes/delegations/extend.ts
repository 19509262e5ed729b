import { createRoute, z } from '@hono/zod-openapi';
import { MAX_DURATION_DAYS } from '../../../core/offer-rules.ts';
import { extendDelegation } from '../../../services/delegations/extension.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, IdParam, needsScope, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/extend',
  operationId: 'extendDelegation',
  tags: ['Delegations'],
  summary: 'Extend an active delegation (needs the client: answers 409 AMENDMENT_REQUIRED)',
  description:
    'A partner can never give itself more time than the client agreed to, so this never changes the end: for an active delegation it answers 409 `AMENDMENT_REQUIRED`, whose `amendment` member names the amendment to propose instead (`POST /v1/delegations/{id}/amendments` with `extendDays`), which the client accepts or declines. A delegation that is not active answers 409 `INVALID_TRANSITION`. Owners and staff with full access only.',
  security: needsScope('delegations:write'),
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
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export const registerExtendDelegation = (app: App) =>
  app.openapi(route, (c) =>
    extendDelegation(c.var.deps, c.var.principal, c.req.valid('param').id, c.req.valid('json').days),
  );
