import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { projectRoot } from '../../helpers/processes.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The README's quick start, followed literally: the offer body its step 2 sends, then the
 * user and domain its step 6 adds once the client accepted — none of them answered 403.
 */
const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');

/** The JSON of the `-d '…'` that follows the first curl to a path ending in `suffix`. */
function bodyAfter(suffix: string): Record<string, unknown> {
  const pattern = new RegExp(`curl -s \\S*${suffix.replace(/[/.]/g, '\\$&')}[^\\n]*\\\\\\n\\s*-d '([^']+)'`);
  const match = readme.match(pattern);
  if (!match?.[1]) throw new Error(`the README has no curl to …${suffix} with a body`);
  return JSON.parse(match[1]) as Record<string, unknown>;
}

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

it("the README's offer grants what its next steps need: a user and a domain are added without a 403", async () => {
  const offer = bodyAfter('/v1/offers');
  const user = bodyAfter('/users');
  const domain = bodyAfter('/domains');
  const fixture = await createOfferFixture(stack, { offer });
  const { delegationId } = await activateDelegation(stack, fixture);
  const token = fixture.partner.token;

  const active = await stack.request('/v1/delegations?state=active', { token });
  expect(active.status).toBe(200);
  expect(JSON.stringify(await active.json())).toContain(delegationId);

  const added = await stack.request(`/v1/delegations/${delegationId}/users`, { method: 'POST', token, json: user });
  expect(added.status, await added.clone().text()).toBe(202);
  expect(await added.json()).toHaveProperty('operationId');
  const domainAdded = await stack.request(`/v1/delegations/${delegationId}/domains`, {
    method: 'POST',
    token,
    json: domain,
  });
  expect(domainAdded.status, await domainAdded.clone().text()).toBe(202);
});
