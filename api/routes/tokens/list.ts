import { createRoute, z } from '@hono/zod-openapi';
import { listApiTokens } from '../../../services/accounts/api-tokens.ts';
import type { App } from '../../env.ts';
import { needsScope, problems } from '../../schemas.ts';
import { TokenSchema } from './schemas.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/tokens',
  operationId: 'listTokens',
  tags: ['Tokens'],
  summary: 'List your API tokens, or with `all=true` (owners) every token of the partner',
  description: 'Tokens not revoked, expired ones included, newest first. Never the secret.',
  security: needsScope('read'),
  request: {
    query: z.object({
      all: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ description: "Owners only: every staff member's tokens, not only yours" }),
    }),
  },
  responses: {
    200: {
      description: 'The tokens',
      content: { 'application/json': { schema: z.object({ items: z.array(TokenSchema) }).openapi('TokenList') } },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListTokens = (app: App) =>
  app.openapi(route, async (c) => {
    const all = c.req.valid('query').all === 'true';
    return c.json({ items: await listApiTokens(c.var.deps, c.var.principal, { all }) }, 200);
  });
