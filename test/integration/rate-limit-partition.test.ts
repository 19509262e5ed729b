import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRateLimits, rateLimitRules } from '../../lib/rate-limits.ts';
import { createRedis, failFastOptions, type Redis } from '../../lib/redis.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { testServices } from '../helpers/services.ts';
import { deleteQueueKeys } from '../helpers/stack.ts';

/**
 * The API's Redis connection (lib/deps.ts) cut off from Redis: a limit answers from the
 * in-memory stand-in within the command timeout instead of waiting for a reply that cannot
 * come, and counts in Redis again once the path heals.
 */
let proxy: FaultProxy;
let redis: Redis;
const prefix = `t_${randomBytes(5).toString('hex')}`;

beforeAll(async () => {
  proxy = await startFaultProxy(testServices.redisUrl);
  redis = createRedis(proxy.through(testServices.redisUrl), failFastOptions(300));
  redis.on('error', () => {});
});
afterAll(async () => {
  proxy.set('pass');
  redis.disconnect();
  await proxy.close();
  await deleteQueueKeys(prefix);
});

it('a limit checked while Redis is partitioned answers within the command timeout, held per process', async () => {
  const limits = createRateLimits(redis, prefix);
  await limits.consume('acceptPerIp', '192.0.2.1');
  proxy.set('blackhole');
  try {
    const started = performance.now();
    await limits.consume('acceptPerIp', '192.0.2.2');
    expect(performance.now() - started).toBeLessThan(1500);
    // Still a limit: the stand-in refuses past the rule's points.
    const points = rateLimitRules.acceptPerIp.points;
    const outcomes = await Promise.allSettled(
      Array.from({ length: points + 1 }, () => limits.consume('acceptPerIp', '192.0.2.3')),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
  } finally {
    proxy.set('pass');
  }
  await limits.consume('acceptPerIp', '192.0.2.4');
  expect(await redis.exists(`${prefix}:rl:acceptPerIp:192.0.2.4`)).toBe(1);
}, 30_000);
