import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

/**
 * A Redis connection. `maxRetriesPerRequest: null` is what BullMQ workers need (commands
 * wait for a reconnect instead of failing); producers in the API pass a number so a
 * request fails fast when Redis is gone.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, ...options });
}
