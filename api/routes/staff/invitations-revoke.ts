import { createRoute } from '@hono/zod-openapi';
import { revokeInvitation } from '../../../services/accounts/staff-invitations.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/staff/invitations/{id}',
  operationId: 'withdrawStaffInvitation',
  tags: ['Staff'],
  summary: 'Withdraw a pending staff invitation (owners only)',
  description:
    'Its link stops working. An invitation already accepted, withdrawn, or of another partner: 404 (an accepted one made a staff member: change their access instead).',
  security: needsScope('staff:write'),
  request: { params: IdParam('InvitationId', 'inv_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e') },
  responses: {
    204: { description: 'Withdrawn' },
    ...problems(401, 403, 404, 422),
  },
});

export const registerRevokeInvitation = (app: App) =>
  app.openapi(route, async (c) => {
    await revokeInvitation(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId);
    return c.body(null, 204);
  });
