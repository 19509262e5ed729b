import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.ts';
import { chaosWorld, recordCampaign, report, sleep, tally, waitUntilDelivered, waitUntilSent } from './harness.ts';

/**
 * Redis as production should run it — append-only, every write synced — killed with -9
 * mid-campaign and restarted with its data after 5 s: the jobs it held come back (active
 * ones as stalled), the workers reconnect, and every recipient gets the offer once.
 */
const dir = mkdtempSync(join(tmpdir(), 'mandate-aof-'));
const persistent = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
let redis: PrivateRedis;
const world = chaosWorld({
  before: async () => {
    redis = await startPrivateRedis(persistent);
  },
  stackEnv: () => ({ REDIS_URL: redis.url }),
  after: async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  },
});

it('Redis (append-only) killed with -9 mid-campaign and restarted with its data: nothing lost, at most one duplicate', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 1000, 'aof');
  world.worker();
  await waitUntilDelivered(sink, emails, 250);
  await redis.stop();
  await sleep(5000);
  redis = await startPrivateRedis(persistent, redis.port);
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  await waitUntilDelivered(sink, emails, emails.length, 60_000);
  const t = tally(sink, emails);
  report('Redis append-only killed and restarted with its data, 1000 recipients', t, started);
  expect(counts.offered).toBe(1000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(1);
});
