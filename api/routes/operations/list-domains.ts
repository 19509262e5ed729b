import { createRoute, z } from '@hono/zod-openapi';
import { listClientDomains } from '../../../services/operations/views.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { DelegationParam, requiredRoles } from './schemas.ts';

const ClientDomain = z
  .object({
    name: z.string(),
    state: z.enum(['pending', 'verified', 'failed']),
    verification: z.object({ type: z.literal('TXT'), name: z.string(), value: z.string() }),
    verifiedAt: z.string().nullable(),
    lastCheckedAt: z.string().nullable(),
    lastFound: z.string().nullable().openapi({ description: 'What the last lookup found instead of the record' }),
  })
  .openapi('ClientDomain');

const needs = requiredRoles('list_domains');

export const route = createRoute({
  method: 'get',
  path: '/v1/delegations/{id}/domains',
  operationId: 'listClientDomains',
  tags: ['Operations'],
  summary: "The client organization's domains",
  'x-roles': needs['x-roles'],
  description: needs.sentence,
  security: needsScope('read'),
  request: { params: DelegationParam },
  responses: {
    200: {
      description: 'Domains',
      content: {
        'application/json': {
          schema: z.object({ initialDomain: z.string(), items: z.array(ClientDomain) }).openapi('ClientDomains'),
        },
      },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerListClientDomains = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await listClientDomains(
        c.var.deps.db,
        c.var.principal,
        c.req.valid('param').id,
        c.var.deps.config.initialDomainSuffix,
      ),
      200,
    ),
  );
