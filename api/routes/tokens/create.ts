import { createRoute } from '@hono/zod-openapi';
import { createApiToken } from '../../../services/accounts/api-tokens.ts';
import type { App } from '../../env.ts';
import { anyTokenSecurity, IdempotencyHeaders, problems } from '../../schemas.ts';
import { CreatedTokenSchema, CreateTokenBody } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/tokens',
  operationId: 'createToken',
  tags: ['Tokens'],
  summary: 'Create an API token for yourself (the secret is shown once)',
  description:
    "Any token may call this, but the new token's scopes must be among the calling token's (403 `INSUFFICIENT_SCOPE`) and among those your staff access allows (403 `NOT_AUTHORIZED`), and it expires no later than the calling token: a token never makes a broader or longer-lived one.",
  security: anyTokenSecurity,
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateTokenBody } } },
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: CreatedTokenSchema } } },
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export const registerCreateToken = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await createApiToken(c.var.deps, c.var.principal, c.req.valid('json'), c.var.requestId), 201),
  );
