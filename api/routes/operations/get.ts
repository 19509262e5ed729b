import { createRoute, z } from '@hono/zod-openapi';
import { getOperation } from '../../../services/operations/views.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { OperationSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/operations/{id}',
  operationId: 'getOperation',
  tags: ['Operations'],
  summary: 'One operation: its state, attempts, result or error',
  security: needsScope('read'),
  request: {
    params: z.object({
      id: z
        .string()
        .max(100)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: {
    200: { description: 'The operation', content: { 'application/json': { schema: OperationSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

export const registerGetOperation = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await getOperation(c.var.deps.db, c.var.principal, c.req.valid('param').id), 200),
  );
