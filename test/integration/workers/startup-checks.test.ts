import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPolicyError } from '../../../lib/redis-checks.ts';
import { startWorkers } from '../../../workers/run.ts';
import { type PrivateRedis, startPrivateRedis } from '../../helpers/redis-server.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let redis: PrivateRedis;
let stack: TestStack;

beforeAll(async () => {
  redis = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
  stack = await createTestStack({ env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await stack.close();
  await redis.stop();
});

describe('worker start-up', () => {
  it('refuses a Redis that may evict keys, saying what to change', async () => {
    const error = await startWorkers(stack.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisPolicyError);
    expect((error as Error).message).toContain('"allkeys-lru"');
    expect((error as Error).message).toContain('noeviction');
  });
});
