import { createRoute, z } from '@hono/zod-openapi';
import { removeStaff } from '../../../services/accounts/staff-removal.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/staff/{userId}',
  operationId: 'removeStaff',
  tags: ['Staff'],
  summary: 'Remove a staff member (owners only)',
  description:
    'In one transaction: their access ends, their sessions end, their API tokens are revoked and they can no longer sign in (password, second factors, passkeys and single sign-on links are gone). They leave the staff list; the audit trail keeps their name. Operations they requested that are still queued are rejected when they run. Their address can be invited again. The last owner cannot be removed, oneself included (409 `LAST_OWNER`); a user who is not staff of this partner: 404.',
  security: needsScope('staff:write'),
  request: {
    params: z.object({
      userId: z
        .string()
        .max(100)
        .openapi({ param: { name: 'userId', in: 'path' } }),
    }),
  },
  responses: {
    204: { description: 'Removed' },
    ...problems(401, 403, 404, 409, 422),
  },
});

export const registerRemoveStaff = (app: App) =>
  app.openapi(route, async (c) => {
    await removeStaff(c.var.deps, c.var.principal, c.req.valid('param').userId, c.var.requestId);
    return c.body(null, 204);
  });
