import { expect, it } from 'vitest';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.ts';
import { chaosWorld, recordCampaign, report, sleep, tally, waitUntilDelivered, waitUntilSent } from './harness.ts';

let redis: PrivateRedis;
const world = chaosWorld({
  before: async () => {
    redis = await startPrivateRedis();
  },
  stackEnv: () => ({ REDIS_URL: redis.url }),
  after: () => redis.stop(),
});

it('Redis stopped for 10 s and restarted empty mid-campaign: the API answers 202 throughout, workers reconnect and finish', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const first = await recordCampaign(stack, 1000, 'restart');
  world.worker();
  await waitUntilDelivered(sink, first.emails, 200);

  await redis.stop();
  const during: number[] = [];
  const { token } = await createTestPartner(stack);
  const offer = await createTestOffer(stack, token);
  const duringEmails = Array.from({ length: 50 }, (_, i) => `during-${i}@client.example`);
  const outage = Date.now();
  // Five campaigns of ten recorded while Redis is down, over its ten seconds.
  for (let i = 0; i < 5; i++) {
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients: duringEmails.slice(i * 10, i * 10 + 10).map((email) => ({ email })) },
    });
    during.push(response.status);
    await sleep(2000);
  }
  await sleep(Math.max(0, 10_000 - (Date.now() - outage)));
  // Restarted on the same port, without its data (no persistence): every queued job is gone.
  redis = await startPrivateRedis([], redis.port);

  const counts = await waitUntilSent(stack, first.campaignId, 150_000);
  await waitUntilDelivered(sink, duringEmails, 50, 60_000);
  const duringOffered = await waitFor(async () => {
    const [row] = await stack.deps
      .sql`select count(*)::int as n from delegations where offer_id = ${offer.id} and state = 'offered'`;
    return row?.n === 50 ? row.n : undefined;
  });
  const t = tally(sink, [...first.emails, ...duringEmails]);
  report('Redis down 10 s and restarted empty, 1050 recipients', t, started);
  expect(during.every((s) => s === 202)).toBe(true);
  expect(counts.offered).toBe(1000);
  expect(duringOffered).toBe(50);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(1);
});
