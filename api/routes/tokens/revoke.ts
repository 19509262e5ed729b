import { createRoute } from '@hono/zod-openapi';
import { revokeApiToken } from '../../../services/accounts/api-tokens.ts';
import type { App } from '../../env.ts';
import { anyTokenSecurity, IdParam, problems } from '../../schemas.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/tokens/{id}',
  operationId: 'revokeToken',
  tags: ['Tokens'],
  summary: 'Revoke an API token at once',
  description:
    "Your own, or as an owner any token of the partner; the next request with it is 401. Any token may call this — revoking only takes access away, and a holder who fears a token leaked must be able to end it with whichever token they have. Another staff member's token (unless you are an owner), another partner's or a revoked one: 404, nothing changes.",
  security: anyTokenSecurity,
  request: { params: IdParam('TokenId', 'tok_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e') },
  responses: {
    204: { description: 'Revoked' },
    ...problems(401, 403, 404, 422),
  },
});

export const registerRevokeToken = (app: App) =>
  app.openapi(route, async (c) => {
    await revokeApiToken(c.var.deps, c.var.principal, c.req.valid('param').id, c.var.requestId);
    return c.body(null, 204);
  });
