import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeScopes } from '../../../api/auth.ts';
import type { AppEnv } from '../../../api/env.ts';
import { needsScope } from '../../../api/schemas.ts';
import { createTestPartner, readProblem } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A /v1 handler that declares no scope fails closed: the start refuses it when it is there
 * before the scopes are read, and a request refuses it when it was added after (the
 * bearer middleware does not let a handler it knows no scope for through).
 */
const declared = createRoute({
  method: 'get',
  path: '/v1/declared',
  security: needsScope('read'),
  responses: { 200: { description: 'ok', content: { 'application/json': { schema: z.object({}) } } } },
});

describe('at the start', () => {
  it('accepts /v1 routes that declare their scope', () => {
    const app = new OpenAPIHono<AppEnv>();
    app.openapi(declared, (c) => c.json({}, 200));
    expect(routeScopes(app).get('GET /v1/declared')).toBe('read');
  });

  it('refuses an OpenAPI route without bearer security', () => {
    const app = new OpenAPIHono<AppEnv>();
    app.openapi({ ...declared, security: [] }, (c) => c.json({}, 200));
    expect(() => routeScopes(app)).toThrow('GET /v1/declared declares no bearer security');
  });

  it('refuses a /v1 handler added outside the OpenAPI routes, for one method or all', () => {
    const plain = new OpenAPIHono<AppEnv>();
    plain.openapi(declared, (c) => c.json({}, 200));
    plain.get('/v1/plain/:id', (c) => c.json({ leaked: true }));
    expect(() => routeScopes(plain)).toThrow('GET /v1/plain/:id');
    const all = new OpenAPIHono<AppEnv>();
    all.all('/v1/anything', (c) => c.json({ leaked: true }));
    expect(() => routeScopes(all)).toThrow('ALL /v1/anything');
  });

  it('leaves the middleware of the whole area alone', () => {
    const app = new OpenAPIHono<AppEnv>();
    app.use('/v1/*', async (_c, next) => next());
    app.openapi(declared, (c) => c.json({}, 200));
    expect(() => routeScopes(app)).not.toThrow();
  });
});

describe('at request time', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await createTestStack();
    // Added after the app read its routes' scopes, as a route registered too late would be.
    stack.app.get('/v1/undeclared', (c) => c.json({ leaked: true }));
    stack.app.all('/v1/undeclared-any', (c) => c.json({ leaked: true }));
    token = (await createTestPartner(stack)).token;
  });
  afterAll(() => stack.close());

  it('refuses a handler it knows no scope for, even to a token with every scope', async () => {
    for (const [method, path] of [
      ['GET', '/v1/undeclared'],
      ['HEAD', '/v1/undeclared'],
      ['POST', '/v1/undeclared-any'],
    ] as const) {
      const response = await stack.request(path, { method, token });
      expect(response.status, `${method} ${path}`).toBe(403);
      if (method !== 'HEAD') {
        const problem = await readProblem(response);
        expect(problem.code).toBe('NOT_AUTHORIZED');
        expect(problem.detail).toContain('declares no token scope');
      }
    }
  });

  it('still answers declared routes, and 404 where no route is', async () => {
    expect((await stack.request('/v1/offers', { token })).status).toBe(200);
    const missing = await stack.request('/v1/nothing-here', { token });
    expect(missing.status).toBe(404);
    expect((await readProblem(missing)).code).toBe('NOT_FOUND');
  });
});
