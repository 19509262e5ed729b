import { createRoute, z } from '@hono/zod-openapi';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { isId } from '../../../core/ids.ts';
import { listDelegations } from '../../../services/delegations/delegations.ts';
import type { App } from '../../env.ts';
import { needsScope, PageQuery, problems } from '../../schemas.ts';
import { DelegationSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/delegations',
  operationId: 'listDelegations',
  tags: ['Delegations'],
  summary: "List the partner's delegations, newest first",
  security: needsScope('read'),
  request: {
    query: PageQuery.extend({
      state: z.enum(delegationStates).optional(),
      campaignId: z
        .string()
        .refine((v) => isId('campaign', v), 'not a campaign id')
        .optional(),
      expiringWithinDays: z.coerce
        .number()
        .int()
        .min(0)
        .max(3650)
        .optional()
        .openapi({ description: 'Only active delegations whose end is within this many days' }),
    }),
  },
  responses: {
    200: {
      description: 'A page of delegations',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(DelegationSchema), nextCursor: z.string().nullable() })
            .openapi('DelegationPage'),
        },
      },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListDelegations = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await listDelegations(c.var.deps.db, c.var.principal, c.req.valid('query')), 200),
  );
