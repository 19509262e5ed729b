import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken } from '../../../lib/secrets.ts';
import { documentedRoutes } from '../../helpers/api-routes.ts';
import { createTestClientWithToken, createTestPartner, readProblem } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let revokedToken: string;
let clientToken: string;

beforeAll(async () => {
  stack = await createTestStack();
  const partner = await createTestPartner(stack);
  revokedToken = partner.token;
  await stack.deps.sql`update api_tokens set revoked_at = now() where user_id = ${partner.userId}`;
  clientToken = await createTestClientWithToken(stack);
});
afterAll(() => stack.close());

const credentials: [string, () => Record<string, string>][] = [
  ['no Authorization header', () => ({})],
  ['a non-bearer scheme', () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
  ['an empty bearer', () => ({ authorization: 'Bearer ' })],
  ['an unknown token', () => ({ authorization: `Bearer ${newApiToken()}` })],
  ['a token without the prefix', () => ({ authorization: 'Bearer abc' })],
  ['a revoked token', () => ({ authorization: `Bearer ${revokedToken}` })],
  ["a client user's token", () => ({ authorization: `Bearer ${clientToken}` })],
];

describe('every /v1 route needs a partner token', () => {
  it('covers every documented /v1 route with every kind of bad credential → 401', async () => {
    const routes = (await documentedRoutes(stack)).filter((r) => r.path.startsWith('/v1/'));
    expect(routes.length).toBeGreaterThanOrEqual(9);
    for (const { method, samplePath } of routes) {
      for (const [label, headers] of credentials) {
        const response = await stack.request(samplePath, {
          method,
          headers: { ...headers(), 'content-type': 'application/json' },
          ...(method === 'POST' || method === 'PUT' ? { body: '{}' } : {}),
        });
        expect(response.status, `${method} ${samplePath} with ${label}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect((await readProblem(response)).code).toBe('UNAUTHENTICATED');
      }
    }
  });
});

describe('health routes are public', () => {
  it('GET /healthz → 200', async () => {
    const response = await stack.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('GET /readyz reports PostgreSQL and Redis', async () => {
    const response = await stack.request('/readyz');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
    expect(body.ok).toBe(true);
    expect(body.checks.postgres?.ok).toBe(true);
    expect(body.checks.redis?.ok).toBe(true);
  });
});
