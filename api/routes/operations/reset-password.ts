import { createRoute, z } from '@hono/zod-openapi';
import { requestPasswordReset } from '../../../services/operations/requests.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { Accepted, DelegationParam, requiredRoles } from './schemas.ts';

const needs = requiredRoles('reset_password_non_admin', 'reset_password_admin');

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/users/{userId}/password-reset',
  operationId: 'resetPassword',
  tags: ['Operations'],
  summary: "Reset a client user's password",
  'x-roles': needs['x-roles'],
  description: `${needs.sentence} A global administrator's password needs \`reset_password_admin\` (403 otherwise). A worker sets a temporary password, which must be changed at the next sign-in, ends the user's sessions and emails it to you.`,
  security: needsScope('operations:write'),
  request: {
    params: DelegationParam.extend({
      userId: z
        .string()
        .max(100)
        .openapi({ param: { name: 'userId', in: 'path' } }),
    }),
    headers: IdempotencyHeaders,
  },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: Accepted } } },
    ...problems(401, 403, 404, 409, 422),
  },
});

export const registerResetPassword = (app: App) =>
  app.openapi(route, async (c) => {
    const { id, userId } = c.req.valid('param');
    const { operation } = await requestPasswordReset(c.var.deps, c.var.principal, id, userId, {
      requestId: c.var.requestId,
    });
    return c.json({ operationId: operation.id }, 202);
  });
