import { createRoute, z } from '@hono/zod-openapi';
import { revokeOffer } from '../../../services/offers/offers.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, problems } from '../../schemas.ts';
import { OfferSchema } from './schemas.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/offers/{id}',
  operationId: 'revokeOffer',
  tags: ['Offers'],
  summary: 'Revoke an offer',
  description:
    'The link stops working and every delegation of the offer still waiting for an answer (invited or offered) is terminated. Accepted delegations are not ended. Revoking twice is harmless.',
  security: needsScope('offers:write'),
  request: { params: IdParam('OfferId', 'ofr_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e') },
  responses: {
    200: {
      description: 'Revoked',
      content: {
        'application/json': {
          schema: OfferSchema.extend({ terminatedDelegations: z.number().int() }).openapi('RevokedOffer'),
        },
      },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerRevokeOffer = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await revokeOffer(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId), 200),
  );
