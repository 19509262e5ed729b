import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.ts';
import { createDb, createSql, type Sql } from '../../db/client.ts';
import {
  createDatabaseRateLimits,
  createRateLimits,
  growingDelayRules,
  type RateLimits,
  waitAfterFailure,
} from '../../lib/rate-limits.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { testServices } from '../helpers/services.ts';
import { deleteQueueKeys } from '../helpers/stack.ts';

/**
 * The growing delay behind sign-in failures per (account, address), on both stores: a
 * rule with short waits (1 s, then 2 s) so the test can wait them out for real.
 */
const quick = { free: 2, firstWaitSeconds: 1, maxWaitSeconds: 2, memorySeconds: 60 };
const overrides = { delays: { signInWaitPerAccountAndIp: quick } };

let database: TestDatabase;
let sql: Sql;
let redis: Redis;
const prefix = `t_${randomBytes(5).toString('hex')}`;
const stores: Record<string, () => RateLimits> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  sql = createSql(database.url, { max: 2 });
  redis = new Redis(testServices.redisUrl);
  stores.redis = () => createRateLimits(redis, prefix, overrides);
  stores.postgresql = () => createDatabaseRateLimits(createDb(sql), overrides);
});
afterAll(async () => {
  redis.disconnect();
  await deleteQueueKeys(prefix);
  await sql.end({ timeout: 1 });
  await database.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function refusal(attempt: Promise<unknown>): Promise<number> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('RATE_LIMITED');
  return Number((error as AppError).details?.retryAfterSeconds);
}

describe('the wait after failed sign-ins', () => {
  it('is free for the first failures, then doubles with each failure up to its ceiling', () => {
    const rule = growingDelayRules.signInWaitPerAccountAndIp;
    const waits = Array.from({ length: 12 }, (_, i) => waitAfterFailure(rule, i + 1));
    expect(waits).toEqual([0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
    expect(waitAfterFailure(rule, 10_000)).toBe(900);
  });
});

describe.each(['redis', 'postgresql'])('growing delays in %s', (store) => {
  it('lets the free attempts through, then one attempt per wait, each wait twice the last', async () => {
    const limits = (stores[store] as () => RateLimits)();
    const key = `someone@example.test|198.51.100.${store.length}`;
    expect(await limits.startDelayed('signInWaitPerAccountAndIp', key)).toBe(1);
    expect(await limits.failDelayed('signInWaitPerAccountAndIp', key, 1)).toBe(0);
    expect(await limits.startDelayed('signInWaitPerAccountAndIp', key)).toBe(2);
    expect(await limits.failDelayed('signInWaitPerAccountAndIp', key, 2)).toBe(1);

    // Waiting: refused without being counted, however often it is tried.
    for (let i = 0; i < 3; i++) {
      expect(await refusal(limits.startDelayed('signInWaitPerAccountAndIp', key))).toBe(1);
    }
    await sleep(1100);
    // Two at once after the wait: only one goes on.
    const both = await Promise.allSettled([
      limits.startDelayed('signInWaitPerAccountAndIp', key),
      limits.startDelayed('signInWaitPerAccountAndIp', key),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([3]);
    expect(await limits.failDelayed('signInWaitPerAccountAndIp', key, 3)).toBe(2);
    expect(await refusal(limits.startDelayed('signInWaitPerAccountAndIp', key))).toBe(2);
    await sleep(2100);

    // A right attempt forgets the failures: the next ones are free again.
    expect(await limits.startDelayed('signInWaitPerAccountAndIp', key)).toBe(4);
    await limits.clearDelayed('signInWaitPerAccountAndIp', key);
    expect(await limits.startDelayed('signInWaitPerAccountAndIp', key)).toBe(1);
  });

  it('counts without refusing, and says when the window ends', async () => {
    const limits = (stores[store] as () => RateLimits)();
    const key = `counted-${store}@example.test`;
    const counted = [];
    for (let i = 0; i < 25; i++) counted.push(await limits.count('signInFailuresPerAccount', key));
    expect(counted.map((c) => c.count)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(counted.at(-1)?.retryAfterSeconds).toBeGreaterThan(0);
    expect(counted.at(-1)?.retryAfterSeconds).toBeLessThanOrEqual(60 * 60);
    await limits.refund('signInFailuresPerAccount', key);
    expect((await limits.count('signInFailuresPerAccount', key)).count).toBe(25);
  });
});
