import type { Redis } from './redis.ts';

export class RedisPolicyError extends Error {
  override name = 'RedisPolicyError';
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: under memory pressure any other policy lets
 * Redis silently delete queue keys — jobs vanish. Refuses to go on when Redis reports
 * another policy; when the server does not allow CONFIG (some hosted Redis), says so
 * and goes on.
 */
export async function assertNoEviction(redis: Redis): Promise<'noeviction' | 'unknown'> {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch {
    return 'unknown';
  }
  if (policy && policy !== 'noeviction') {
    throw new RedisPolicyError(
      `Redis maxmemory-policy is "${policy}"; Mandate's queues need "noeviction" (Redis may otherwise drop jobs). ` +
        'Run `redis-cli CONFIG SET maxmemory-policy noeviction` or start redis-server with --maxmemory-policy noeviction.',
    );
  }
  return 'noeviction';
}
