import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken } from '../../../lib/secrets.ts';
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

const id = '0'.repeat(32);
/** Every route of the partner API. The OpenAPI test checks this list is complete. */
const routes: [string, string][] = [
  ['POST', '/v1/offers'],
  ['GET', '/v1/offers'],
  ['DELETE', `/v1/offers/ofr_${id}`],
  ['POST', '/v1/campaigns'],
  ['GET', '/v1/campaigns'],
  ['GET', `/v1/campaigns/cmp_${id}`],
  ['GET', `/v1/campaigns/cmp_${id}/recipients`],
  ['GET', '/v1/delegations'],
  ['GET', `/v1/delegations/dlg_${id}`],
];

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
  const cases = routes.flatMap(([method, path]) =>
    credentials.map(([label, headers]) => [method, path, label, headers] as const),
  );
  it.each(cases)('%s %s with %s → 401', async (method, path, _label, headers) => {
    const response = await stack.request(path, {
      method,
      headers: { ...headers(), 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect((await readProblem(response)).code).toBe('UNAUTHENTICATED');
  });

  it('lists the routes the OpenAPI document has', () => {
    expect(routes).toHaveLength(9);
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

export { routes };
