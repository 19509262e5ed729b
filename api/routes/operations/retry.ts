import { createRoute, z } from '@hono/zod-openapi';
import { retryOperation } from '../../../services/operations/retry.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { OperationSchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/operations/{id}/retry',
  operationId: 'retryOperation',
  tags: ['Operations'],
  summary: 'Run a failed operation again',
  description:
    'Moves a `failed` operation back to `queued` under the same id; the worker checks the permission again when it runs. Retrying one that is already queued or running returns it unchanged; one that succeeded or was rejected cannot be retried (409). A domain verification retried looks for its record until a fresh deadline.',
  security: needsScope('operations:write'),
  request: {
    params: z.object({
      id: z
        .string()
        .max(100)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
    headers: IdempotencyHeaders,
  },
  responses: {
    202: { description: 'Queued again', content: { 'application/json': { schema: OperationSchema } } },
    ...problems(400, 401, 403, 404, 409, 422),
  },
});

export const registerRetryOperation = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await retryOperation(c.var.deps, c.var.principal, c.req.valid('param').id, { requestId: c.var.requestId }),
      202,
    ),
  );
