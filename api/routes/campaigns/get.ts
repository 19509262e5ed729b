import { createRoute } from '@hono/zod-openapi';
import { getCampaign } from '../../../services/campaigns/campaigns.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, problems } from '../../schemas.ts';
import { CampaignSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}',
  operationId: 'getCampaign',
  tags: ['Campaigns'],
  summary: 'Progress of a campaign: recipients by delegation state',
  security: needsScope('read'),
  request: { params: IdParam('CampaignId', 'cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e') },
  responses: {
    200: { description: 'The campaign', content: { 'application/json': { schema: CampaignSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

export const registerGetCampaign = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await getCampaign(c.var.deps.db, c.var.principal, c.req.valid('param').id), 200),
  );
