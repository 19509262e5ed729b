import { createRoute, z } from '@hono/zod-openapi';
import { getDelegation } from '../../../services/delegations/delegations.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, problems } from '../../schemas.ts';
import { DelegationEventSchema, DelegationSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/delegations/{id}',
  operationId: 'getDelegation',
  tags: ['Delegations'],
  summary: 'One delegation with its timeline of events',
  security: needsScope('read'),
  request: { params: IdParam('DelegationId', 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e') },
  responses: {
    200: {
      description: 'The delegation',
      content: {
        'application/json': {
          schema: DelegationSchema.extend({ events: z.array(DelegationEventSchema) }).openapi('DelegationWithEvents'),
        },
      },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerGetDelegation = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await getDelegation(c.var.deps.db, c.var.principal, c.req.valid('param').id, c.var.delegationRead), 200),
  );
