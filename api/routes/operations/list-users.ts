import { createRoute, z } from '@hono/zod-openapi';
import { listClientUsers } from '../../../services/operations/views.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { DelegationParam, requiredRoles } from './schemas.ts';

const ClientUser = z
  .object({
    id: z.string(),
    email: z.string(),
    displayName: z.string(),
    isGlobalAdmin: z.boolean(),
    mustChangePassword: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('ClientUser');

const needs = requiredRoles('list_users');

export const route = createRoute({
  method: 'get',
  path: '/v1/delegations/{id}/users',
  operationId: 'listClientUsers',
  tags: ['Operations'],
  summary: "The client organization's users",
  'x-roles': needs['x-roles'],
  description: needs.sentence,
  security: needsScope('read'),
  request: { params: DelegationParam },
  responses: {
    200: {
      description: 'Users',
      content: { 'application/json': { schema: z.object({ items: z.array(ClientUser) }).openapi('ClientUsers') } },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerListClientUsers = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await listClientUsers(c.var.deps.db, c.var.principal, c.req.valid('param').id), 200),
  );
