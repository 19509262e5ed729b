import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** Every answer carries its request id in X-Request-Id, refusals and errors included: the one a client quotes. */
let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

it.each([
  ['a refusal without a token', '/v1/offers'],
  ['an address with nothing there', '/v1/nothing-here'],
])('%s: the header and the body name the same request', async (_name, path) => {
  const response = await stack.request(path);
  expect(response.status).toBeGreaterThanOrEqual(400);
  const body = (await response.json()) as { requestId: string };
  expect(body.requestId).toMatch(/\S/);
  expect(response.headers.get('x-request-id')).toBe(body.requestId);
});
