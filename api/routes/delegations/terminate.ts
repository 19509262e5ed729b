import { createRoute, z } from '@hono/zod-openapi';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { terminateByPartner } from '../../../services/delegations/termination.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/delegations/{id}',
  operationId: 'terminateDelegation',
  tags: ['Delegations'],
  summary: 'End a delegation',
  description:
    'Invited, offered, accepting or active → terminated. Both sides are emailed; from this moment no delegated action runs. Ending a terminated delegation again is a no-op. Owners and staff with full access only.',
  security: needsScope('delegations:write'),
  request: { params: IdParam('DelegationId', 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e') },
  responses: {
    200: {
      description: 'Ended',
      content: {
        'application/json': {
          schema: z.object({ delegationId: z.string(), state: z.enum(delegationStates) }).openapi('Termination'),
        },
      },
    },
    ...problems(401, 403, 404, 409, 422),
  },
});

export const registerTerminateDelegation = (app: App) =>
  app.openapi(route, async (c) => {
    const result = await terminateByPartner(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId);
    return c.json({ delegationId: result.delegationId, state: 'terminated' as const }, 200);
  });
