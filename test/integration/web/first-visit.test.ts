import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

it('the sign-in page of a fresh instance says to create a partner first, and how; once there is one, it does not', async () => {
  const fresh = await (await stack.request('/sign-in')).text();
  expect(fresh).toContain('No partner yet.');
  expect(fresh).toContain('npm run mandate -- partner create');
  await createTestPartner(stack);
  const after = await (await stack.request('/sign-in')).text();
  expect(after).not.toContain('No partner yet.');
  expect(after).toContain('<form method="post" action="/sign-in">');
});
