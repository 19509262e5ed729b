import { createRoute, z } from '@hono/zod-openapi';
import { setStaffAccess } from '../../../services/accounts/staff.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { SetStaffAccessBody, StaffSchema } from './schemas.ts';

export const route = createRoute({
  method: 'put',
  path: '/v1/staff/{userId}/access',
  operationId: 'setStaffAccess',
  tags: ['Staff'],
  summary: "Change a staff member's access (owners only)",
  description:
    'Send `access` (a preset) or `roles`, not both (422). Takes effect at once, including for operations already queued: they are re-checked when they run.',
  security: needsScope('staff:write'),
  request: {
    params: z.object({
      userId: z
        .string()
        .max(100)
        .openapi({ param: { name: 'userId', in: 'path' } }),
    }),
    body: {
      required: true,
      content: { 'application/json': { schema: SetStaffAccessBody } },
    },
  },
  responses: {
    200: { description: 'Changed', content: { 'application/json': { schema: StaffSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export const registerSetStaffAccess = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await setStaffAccess(
        c.var.deps,
        c.var.principal,
        c.req.valid('param').userId,
        c.req.valid('json'),
        c.var.requestId,
      ),
      200,
    ),
  );
