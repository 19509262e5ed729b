import { createRoute } from '@hono/zod-openapi';
import { requestProvisionUser } from '../../../services/operations/requests.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { Accepted, DelegationParam, ProvisionUserBody, requiredRoles } from './schemas.ts';

const needs = requiredRoles('provision_user');

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/users',
  operationId: 'provisionUser',
  tags: ['Operations'],
  summary: 'Provision a user in the client organization',
  'x-roles': needs['x-roles'],
  description: `${needs.sentence} \`userName\` is a local part (on the first verified domain, else the initial domain) or a full address on a verified domain. A worker creates the user and emails a temporary password to \`notifyEmail\`, or to you.`,
  security: needsScope('operations:write'),
  request: {
    params: DelegationParam,
    headers: IdempotencyHeaders,
    body: {
      required: true,
      content: {
        'application/json': {
          schema: ProvisionUserBody,
        },
      },
    },
  },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: Accepted } } },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export const registerProvisionUser = (app: App) =>
  app.openapi(route, async (c) => {
    const { operation } = await requestProvisionUser(
      c.var.deps,
      c.var.principal,
      c.req.valid('param').id,
      c.req.valid('json'),
      { requestId: c.var.requestId },
    );
    return c.json({ operationId: operation.id }, 202);
  });
