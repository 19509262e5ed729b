import { createRoute, z } from '@hono/zod-openapi';
import { listAmendments } from '../../../services/delegations/amendment-views.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, PageQuery, problems } from '../../schemas.ts';
import { AmendmentSchema } from './amendment-schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/delegations/{id}/amendments',
  operationId: 'listAmendments',
  tags: ['Delegations'],
  summary: "A delegation's amendments, newest first, with their state and the terms before and after",
  security: needsScope('read'),
  request: { params: IdParam('DelegationId', 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e'), query: PageQuery },
  responses: {
    200: {
      description: 'A page of amendments',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(AmendmentSchema), nextCursor: z.string().nullable() })
            .openapi('AmendmentPage'),
        },
      },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerListAmendments = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await listAmendments(c.var.deps.db, c.var.principal, c.req.valid('param').id, c.req.valid('query')), 200),
  );
