import { expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import {
  chaosWorld,
  recordCampaign,
  report,
  sleep,
  tally,
  unconfirmedMax,
  waitUntilDelivered,
  waitUntilSent,
} from './harness.ts';

/**
 * A worker reaches PostgreSQL, Redis and the SMTP server through fault proxies; each is cut
 * off (a partition: nothing crosses, nothing is refused) for 20 s in turn mid-campaign.
 * Counted from what the SMTP server received: nothing lost, at most one duplicate per cut,
 * and the same worker process finishes the campaign once the paths heal — nothing hangs.
 */
const proxies: Record<'postgres' | 'redis' | 'smtp', FaultProxy> = {} as never;
const world = chaosWorld({
  after: async () => {
    for (const proxy of Object.values(proxies)) await proxy?.close();
  },
});
const CUT_MS = 20_000;

it('PostgreSQL, Redis and SMTP each partitioned from the worker for 20 s mid-campaign: nothing lost, the worker resumes', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  proxies.postgres = await startFaultProxy(stack.config.databaseUrl);
  proxies.redis = await startFaultProxy(stack.config.redisUrl);
  proxies.smtp = await startFaultProxy(sink.url);
  const { campaignId, emails } = await recordCampaign(stack, 1200, 'cut');
  const worker = world.worker({
    DATABASE_URL: proxies.postgres.through(stack.config.databaseUrl),
    REDIS_URL: proxies.redis.through(stack.config.redisUrl),
    SMTP_URL: proxies.smtp.through(sink.url),
    SEND_RATE_PER_SECOND: '40',
  });
  let reached = 100;
  for (const name of ['postgres', 'redis', 'smtp'] as const) {
    await waitUntilDelivered(sink, emails, reached, 90_000);
    proxies[name].set('blackhole');
    await sleep(CUT_MS);
    proxies[name].set('pass');
    reached = Math.min(emails.length, tally(sink, emails).delivered + 100);
  }
  const counts = await waitUntilSent(stack, campaignId, 120_000);
  await waitUntilDelivered(sink, emails, emails.length, 60_000);
  const t = tally(sink, emails);
  report('PostgreSQL, Redis, SMTP each partitioned 20 s from the worker, 1200 recipients', t, started);
  expect(worker.child.exitCode, worker.output()).toBeNull();
  expect(counts.offered).toBe(1200);
  expect(t.lost).toBe(0);
  // Each partition may cut at most K messages past their end of data.
  expect(t.duplicates).toBeLessThanOrEqual(3 * unconfirmedMax(world.env()));
}, 300_000);
