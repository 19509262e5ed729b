import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.ts';
import { chaosWorld, recordCampaign, report, tally, waitUntilDelivered, waitUntilSent } from './harness.ts';

// A Redis of this file's own: FLUSHALL must not touch other suites' queues.
let redis: PrivateRedis;
const world = chaosWorld({
  before: async () => {
    redis = await startPrivateRedis();
  },
  stackEnv: () => ({ REDIS_URL: redis.url }),
  after: () => redis.stop(),
});

it('FLUSHALL mid-campaign: the reconciler finishes it, nothing lost', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'flush');
  world.worker();
  await waitUntilDelivered(sink, emails, 300);
  const admin = new Redis(redis.url);
  await admin.flushall();
  admin.disconnect();
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('FLUSHALL mid-campaign, 2000 recipients', t, started);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
});
