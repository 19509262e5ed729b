import { createRoute, z } from '@hono/zod-openapi';
import { listCampaigns } from '../../../services/campaigns/campaigns.ts';
import type { App } from '../../env.ts';
import { needsScope, PageQuery, problems } from '../../schemas.ts';
import { CampaignSummarySchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  operationId: 'listCampaigns',
  tags: ['Campaigns'],
  summary: "List the partner's campaigns, newest first",
  security: needsScope('read'),
  request: { query: PageQuery },
  responses: {
    200: {
      description: 'A page of campaigns',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(CampaignSummarySchema), nextCursor: z.string().nullable() })
            .openapi('CampaignPage'),
        },
      },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListCampaigns = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await listCampaigns(c.var.deps.db, c.var.principal, c.req.valid('query')), 200),
  );
