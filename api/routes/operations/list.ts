import { createRoute, z } from '@hono/zod-openapi';
import { isId } from '../../../core/ids.ts';
import { operationStates } from '../../../db/schema/index.ts';
import { listOperations } from '../../../services/operations/views.ts';
import type { App } from '../../env.ts';
import { needsScope, PageQuery, problems } from '../../schemas.ts';
import { OperationSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/operations',
  operationId: 'listOperations',
  tags: ['Operations'],
  summary: "The partner's operations, newest first",
  security: needsScope('read'),
  request: {
    query: PageQuery.extend({
      state: z.enum(operationStates).optional(),
      delegationId: z
        .string()
        .refine((v) => isId('delegation', v), 'not a delegation id')
        .optional(),
    }),
  },
  responses: {
    200: {
      description: 'A page of operations',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(OperationSchema), nextCursor: z.string().nullable() })
            .openapi('OperationPage'),
        },
      },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListOperations = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await listOperations(c.var.deps.db, c.var.principal, c.req.valid('query')), 200),
  );
