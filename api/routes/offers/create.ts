import { createRoute } from '@hono/zod-openapi';
import { createOffer } from '../../../services/offers/offers.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { CreatedOfferSchema, CreateOfferBody } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/offers',
  operationId: 'createOffer',
  tags: ['Offers'],
  summary: 'Create an offer with a reusable link',
  security: needsScope('offers:write'),
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateOfferBody } } },
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: CreatedOfferSchema } } },
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export const registerCreateOffer = (app: App) =>
  app.openapi(route, async (c) => {
    const offer = await createOffer(c.var.deps, c.var.principal, c.req.valid('json'), c.var.requestId);
    return c.json(offer, 201);
  });
