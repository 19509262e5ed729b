import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.ts';
import { parseRecipientItems } from '../../../core/recipients.ts';
import { decodeRecipientsCsv, parseRecipientsCsv } from '../../../core/recipients-csv.ts';
import { type CreateCampaignInput, createCampaign } from '../../../services/campaigns/campaigns.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { CreateCampaignBody, CreateCampaignCsvQuery, CreatedCampaignSchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/campaigns',
  operationId: 'createCampaign',
  tags: ['Campaigns'],
  summary: 'Send an offer to many recipients by email',
  description:
    'Recipients come as JSON, or as `text/csv` with the header `email,name,company` and `?offerId=`. Invalid addresses and duplicates are reported in `rejected` and not sent. The emails are sent by background workers; follow progress with `GET /v1/campaigns/{id}`.',
  security: needsScope('campaigns:write'),
  request: {
    query: CreateCampaignCsvQuery,
    headers: IdempotencyHeaders,
    body: {
      required: false,
      content: {
        'application/json': { schema: CreateCampaignBody },
        'text/csv': {
          schema: z.string().openapi({ example: 'email,name,company\nadmin@contoso.example,Alex,Contoso' }),
        },
      },
    },
  },
  responses: {
    202: {
      description: 'Accepted; sending has started',
      content: { 'application/json': { schema: CreatedCampaignSchema } },
    },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});

const isCsv = (contentType: string) => /^text\/csv\s*(;|$)/i.test(contentType);
const isJson = (contentType: string) => /^application\/json\s*(;|$)/i.test(contentType);

export const registerCreateCampaign = (app: App) =>
  app.openapi(route, async (c) => {
    const contentType = c.req.header('content-type') ?? '';
    let input: CreateCampaignInput;
    if (isCsv(contentType)) {
      const query = c.req.valid('query');
      if (!query.offerId) {
        throw new AppError('VALIDATION_FAILED', 'A CSV upload needs ?offerId=', {
          issues: [{ path: 'offerId', message: 'required with a text/csv body' }],
        });
      }
      input = {
        offerId: query.offerId,
        name: query.name,
        recipients: parseRecipientsCsv(decodeRecipientsCsv(await c.req.arrayBuffer())),
      };
    } else if (isJson(contentType)) {
      // Validated by the route's JSON schema (the union type covers the CSV variant too).
      const body = c.req.valid('json') as z.output<typeof CreateCampaignBody>;
      input = { offerId: body.offerId, name: body.name, recipients: parseRecipientItems(body.recipients) };
    } else {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json or text/csv');
    }
    return c.json(await createCampaign(c.var.deps, c.var.principal, input, c.var.requestId), 202);
  });
