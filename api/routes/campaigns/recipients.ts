import { createRoute, z } from '@hono/zod-openapi';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { listCampaignRecipients } from '../../../services/campaigns/campaigns.ts';
import type { App } from '../../env.ts';
import { IdParam, needsScope, PageQuery, problems } from '../../schemas.ts';
import { RecipientSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/campaigns/{id}/recipients',
  operationId: 'listCampaignRecipients',
  tags: ['Campaigns'],
  summary: "A campaign's recipients with their delivery state, in submission order",
  security: needsScope('read'),
  request: {
    params: IdParam('CampaignId', 'cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e'),
    query: PageQuery.extend({ state: z.enum(delegationStates).optional() }),
  },
  responses: {
    200: {
      description: 'A page of recipients',
      content: {
        'application/json': {
          schema: z
            .object({ items: z.array(RecipientSchema), nextCursor: z.string().nullable() })
            .openapi('RecipientPage'),
        },
      },
    },
    ...problems(401, 403, 404, 422),
  },
});

export const registerListCampaignRecipients = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await listCampaignRecipients(c.var.deps.db, c.var.principal, c.req.valid('param').id, c.req.valid('query')),
      200,
    ),
  );
