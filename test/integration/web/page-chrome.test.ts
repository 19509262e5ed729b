import { afterAll, beforeAll, expect, it } from 'vitest';
import { signedInClient } from '../../helpers/dashboard.ts';
import { createTestPartner, createTestStaff } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

it('every page links its icon, served as SVG; /favicon.ico leads to it', async () => {
  const page = await (await stack.request('/sign-in')).text();
  expect(page).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml"/>');
  const icon = await stack.request('/favicon.svg');
  expect(icon.status).toBe(200);
  expect(icon.headers.get('content-type')).toBe('image/svg+xml');
  expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const ico = await stack.request('/favicon.ico', { redirect: 'manual' });
  expect(ico.status).toBe(301);
  expect(ico.headers.get('location')).toBe('/favicon.svg');
});

it('a 403 on the dashboard itself leads to the account page, not back to the page refused', async () => {
  // A client's administrator is refused the whole dashboard (it is for partner staff).
  const admin = await createClientAdmin(stack);
  const browser = await signedInClient(stack, admin.userId);
  const refused = await browser.get('/dashboard');
  expect(refused.status).toBe(403);
  expect(refused.html).toContain('href="/account"');
  expect(refused.html).not.toContain('href="/dashboard"');
});

it('a 403 on a page inside the dashboard still leads to the dashboard', async () => {
  const { partnerId } = await createTestPartner(stack);
  await createTestStaff(stack, partnerId, []);
  const [staff] = await stack.deps.sql<{ id: string }[]>`
    select u.id from users u join staff_access s on s.user_id = u.id where s.partner_id = ${partnerId} and not s.is_owner`;
  const browser = await signedInClient(stack, staff?.id as string);
  const refused = await browser.get('/dashboard/staff');
  expect(refused.status).toBe(403);
  expect(refused.html).toContain('href="/dashboard"');
});
