import { createRoute, z } from '@hono/zod-openapi';
import { MAX_RETRY_IDS, retryFailedSends } from '../../../services/campaigns/retry.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, IdParam, needsScope, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/retry-failed',
  operationId: 'retryFailedRecipients',
  tags: ['Campaigns'],
  summary: 'Send the offer again to recipients whose email failed',
  description:
    'Moves failed recipients back to `invited` and sends their email again: all of the campaign’s failed recipients, or those named in `delegationIds`. Recipients a mail server refused for good (a 5xx reply to their address or message, or a bounce report) are left out and counted in `skippedPermanent`, unless `includePermanent` is true: the same email would fail the same way until the address is fixed. Recipients in any other state are left alone, so a repeat retries nothing twice. The offer must still be open (409 `OFFER_REVOKED` / `OFFER_EXPIRED`). Needs the right to send offers.',
  security: needsScope('campaigns:write'),
  request: {
    params: IdParam('CampaignId', 'cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e'),
    headers: IdempotencyHeaders,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .object({
              delegationIds: z
                .array(z.string().max(100))
                .min(1)
                .max(MAX_RETRY_IDS)
                .optional()
                .openapi({ description: 'Only these recipients (their delegation ids); all failed ones if left out.' }),
              includePermanent: z.boolean().default(false).openapi({
                description:
                  'Also retry the recipients a mail server refused for good (5xx, bounces); left out unless true.',
              }),
            })
            .strict()
            .openapi('RetryFailed'),
        },
      },
    },
  },
  responses: {
    202: {
      description: 'The recipients moved back to `invited`; their emails are on their way',
      content: {
        'application/json': {
          schema: z
            .object({
              retried: z.number().int().openapi({ example: 3 }),
              skippedPermanent: z.number().int().openapi({
                example: 1,
                description: 'Failed recipients left out because a mail server refused them for good',
              }),
            })
            .openapi('RetriedRecipients'),
        },
      },
    },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export const registerRetryFailedRecipients = (app: App) =>
  app.openapi(route, async (c) => {
    const body = c.req.valid('json') as { delegationIds?: string[]; includePermanent?: boolean } | undefined;
    return c.json(
      await retryFailedSends(
        c.var.deps,
        c.var.principal,
        c.req.valid('param').id,
        { delegationIds: body?.delegationIds, includePermanent: body?.includePermanent },
        c.var.requestId,
      ),
      202,
    );
  });
