import { createRoute, z } from '@hono/zod-openapi';
import { listOffers } from '../../../services/offers/offers.ts';
import type { App } from '../../env.ts';
import { needsScope, PageQuery, problems } from '../../schemas.ts';
import { OfferSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/offers',
  operationId: 'listOffers',
  tags: ['Offers'],
  summary: "List the partner's offers, newest first",
  security: needsScope('read'),
  request: { query: PageQuery },
  responses: {
    200: {
      description: 'A page of offers (links are not shown again)',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(OfferSchema), nextCursor: z.string().nullable() }).openapi('OfferPage'),
        },
      },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListOffers = (app: App) =>
  app.openapi(route, async (c) => c.json(await listOffers(c.var.deps.db, c.var.principal, c.req.valid('query')), 200));
