import { createRoute, z } from '@hono/zod-openapi';
import { listStaff } from '../../../services/accounts/staff.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { StaffSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/staff',
  operationId: 'listStaff',
  tags: ['Staff'],
  summary: "The partner's users and their access (owners only)",
  security: needsScope('read'),
  responses: {
    200: {
      description: 'Staff',
      content: { 'application/json': { schema: z.object({ items: z.array(StaffSchema) }).openapi('StaffList') } },
    },
    ...problems(401, 403),
  },
});

export const registerListStaff = (app: App) =>
  app.openapi(route, async (c) => c.json({ items: await listStaff(c.var.deps, c.var.principal) }, 200));
