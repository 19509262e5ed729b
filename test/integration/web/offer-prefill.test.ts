import { afterAll, beforeAll, expect, it } from 'vitest';
import { offerPersonalLink } from '../../helpers/browser-client.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

it("a personal link's page fills the new organization's name and the admin's name from the campaign row", async () => {
  const { token } = await createTestPartner(stack);
  const offer = await createTestOffer(stack, token);
  const created = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: {
      offerId: offer.id,
      recipients: [{ email: 'alex@contoso.example', name: 'Alex Doe', company: 'Contoso Ltd' }],
    },
  });
  const { id } = (await created.json()) as { id: string };
  const [row] = await stack.deps.sql<{ id: string }[]>`select id from delegations where campaign_id = ${id}`;
  const link = await offerPersonalLink(stack, row?.id as string);
  const page = await (await stack.request(`/offers/${link}`)).text();
  expect(page).toMatch(/<input id="org-name"[^>]*value="Contoso Ltd"/);
  expect(page).toMatch(/<input id="admin-name"[^>]*value="Alex Doe"/);
  expect(page).toContain('value="alex@contoso.example"');
});
