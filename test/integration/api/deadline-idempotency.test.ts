import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, readProblem, waitFor } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A keyed POST that passes its deadline is answered 503 DEADLINE_EXCEEDED while its work
 * goes on; when that work then commits, a retry with the same key must not do it again —
 * it is told the first took effect (ADR 19), not run a second time.
 */
let stack: TestStack;
let other: postgres.Sql;
beforeAll(async () => {
  stack = await createTestStack({ env: { REQUEST_TIMEOUT_MS: '300', DATABASE_API_LOCK_TIMEOUT_MS: '10000' } });
  other = postgres(stack.config.databaseUrl, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await other?.end({ timeout: 1 });
  await stack?.close();
});

it('a keyed campaign answered 503 at its deadline and committed after it is not created again by the retry', async () => {
  const partner = await createTestPartner(stack);
  const offer = await createTestOffer(stack, partner.token);
  const post = () =>
    stack.request('/v1/campaigns', {
      method: 'POST',
      token: partner.token,
      headers: { 'idempotency-key': 'slow-campaign' },
      json: { offerId: offer.id, recipients: [{ email: 'late@client.example' }] },
    });
  const campaigns = async () =>
    ((await stack.deps.sql`select count(*)::int as n from campaigns where partner_id = ${partner.partnerId}`)[0]
      ?.n as number) ?? 0;

  // Another session holds the campaigns table for a second: the POST waits on it.
  let locked: () => void = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const held = other.begin(async (tx) => {
    await tx`lock table campaigns in access exclusive mode`;
    locked();
    await new Promise((r) => setTimeout(r, 1000));
  });
  await isLocked;
  const first = await post();
  expect(first.status).toBe(503);
  expect((await readProblem(first)).code).toBe('DEADLINE_EXCEEDED');
  await held;
  // The first request's work finishes after its answer.
  await waitFor(async () => (await campaigns()) === 1, 10_000);
  await new Promise((r) => setTimeout(r, 200));

  // The request has ended: the retry is told at once what it did (not "still in progress"
  // until the claim's lease runs out), and nothing is created again.
  const retry = await post();
  expect(await campaigns()).toBe(1);
  expect(retry.status).toBe(409);
  expect((await readProblem(retry)).code).toBe('IDEMPOTENT_RESPONSE_LOST');
}, 90_000);
