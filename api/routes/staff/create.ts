import { createRoute, z } from '@hono/zod-openapi';
import { createStaff } from '../../../services/accounts/staff.ts';
import type { App } from '../../env.ts';
import { bearerSecurity, IdempotencyHeaders, problems } from '../../schemas.ts';
import { CreateStaffBody, StaffSchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/staff',
  tags: ['Staff'],
  summary: 'Add a staff member (owners only)',
  description:
    "Returns the new user's password and API token once; only their hashes are kept. An address already on the partner's staff: 409. An address with an account anywhere else on this instance: 422, the same answer whoever holds it, naming no reason.",
  security: bearerSecurity,
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateStaffBody } } },
  },
  responses: {
    201: {
      description: 'Created',
      content: {
        'application/json': {
          schema: StaffSchema.extend({ password: z.string(), token: z.string() }).openapi('CreatedStaff'),
        },
      },
    },
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export const registerCreateStaff = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await createStaff(c.var.deps, c.var.principal, c.req.valid('json'), c.var.requestId), 201),
  );
