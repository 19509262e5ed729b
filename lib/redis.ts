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

/**
 * Options of the connections a request waits on (the app's, for rate limits; the queue
 * producer's, for enqueues): a command fails after `commandTimeoutMs` — a connection cut
 * off mid-command would otherwise hold it until TCP gives up — and while Redis is gone
 * after two reconnect attempts, each given as long to connect.
 */
export function failFastOptions(commandTimeoutMs: number): RedisOptions {
  return { maxRetriesPerRequest: 2, commandTimeout: commandTimeoutMs, connectTimeout: commandTimeoutMs };
}
