import { createRoute, z } from '@hono/zod-openapi';
import { listInvitations } from '../../../services/accounts/staff-invitations.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { InvitationSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/staff/invitations',
  operationId: 'listStaffInvitations',
  tags: ['Staff'],
  summary: "The partner's pending staff invitations (owners only)",
  description: 'Invitations not yet accepted, withdrawn or expired, oldest first.',
  security: needsScope('read'),
  responses: {
    200: {
      description: 'Pending invitations',
      content: {
        'application/json': { schema: z.object({ items: z.array(InvitationSchema) }).openapi('InvitationList') },
      },
    },
    ...problems(401, 403),
  },
});

export const registerListInvitations = (app: App) =>
  app.openapi(route, async (c) => c.json({ items: await listInvitations(c.var.deps, c.var.principal) }, 200));
