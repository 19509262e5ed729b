import { createRoute, z } from '@hono/zod-openapi';
import { requestAddDomain } from '../../../services/operations/requests.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { DelegationParam, requiredRoles } from './schemas.ts';

const Verification = z
  .object({
    type: z.literal('TXT'),
    name: z.string().openapi({ example: 'contoso.com' }),
    value: z.string().openapi({ example: 'mandate-verification=Yc2m8r3q0lQ2dXc1t6mQ0A' }),
  })
  .openapi('DomainVerification');

const needs = requiredRoles('add_domain');

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/domains',
  operationId: 'addDomain',
  tags: ['Operations'],
  summary: 'Add a domain to the client organization',
  'x-roles': needs['x-roles'],
  description: `${needs.sentence} Returns the TXT record to publish at the domain. Internationalized names are stored in punycode; IP addresses and public suffixes are refused (422). A subdomain of a verified domain is verified at once.`,
  security: needsScope('operations:write'),
  request: {
    params: DelegationParam,
    headers: IdempotencyHeaders,
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ name: z.string().min(1).max(300) })
            .strict()
            .openapi('AddDomain'),
        },
      },
    },
  },
  responses: {
    202: {
      description: 'Queued',
      content: {
        'application/json': {
          schema: z.object({ operationId: z.string(), verification: Verification }).openapi('DomainAccepted'),
        },
      },
    },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export const registerAddDomain = (app: App) =>
  app.openapi(route, async (c) => {
    const { operation, verification } = await requestAddDomain(
      c.var.deps,
      c.var.principal,
      c.req.valid('param').id,
      c.req.valid('json').name,
      { requestId: c.var.requestId },
    );
    return c.json({ operationId: operation.id, verification }, 202);
  });
