import { createRoute, z } from '@hono/zod-openapi';
import { requestVerifyDomain } from '../../../services/operations/requests.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { Accepted, DelegationParam, requiredRoles } from './schemas.ts';

const needs = requiredRoles('verify_domain');

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/domains/{name}/verify',
  operationId: 'verifyDomain',
  tags: ['Operations'],
  summary: 'Verify a domain by its TXT record',
  'x-roles': needs['x-roles'],
  description: `${needs.sentence} A worker looks the record up, and keeps looking with growing pauses while DNS propagates, until it is found or the deadline (72 hours by default) passes; the operation then fails with what was found instead.`,
  security: needsScope('operations:write'),
  request: {
    params: DelegationParam.extend({
      name: z
        .string()
        .max(300)
        .openapi({ param: { name: 'name', in: 'path' } }),
    }),
    headers: IdempotencyHeaders,
  },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: Accepted } } },
    ...problems(401, 403, 404, 409, 422),
  },
});

export const registerVerifyDomain = (app: App) =>
  app.openapi(route, async (c) => {
    const { id, name } = c.req.valid('param');
    const { operation } = await requestVerifyDomain(c.var.deps, c.var.principal, id, name, {
      requestId: c.var.requestId,
    });
    return c.json({ operationId: operation.id }, 202);
  });
