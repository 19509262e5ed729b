import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.ts';
import type { App } from '../../api/env.ts';
import { type Config, loadConfig } from '../../lib/config.ts';
import { closeDeps, createDeps, type Deps } from '../../lib/deps.ts';
import type { Logger } from '../../lib/logger.ts';
import { type RunningWorkers, startWorkers } from '../../workers/run.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { testServices } from './services.ts';

export interface TestStack {
  config: Config;
  deps: Deps;
  app: App;
  database: TestDatabase;
  workers: RunningWorkers | undefined;
  /** An in-process request to the app; `json` sets the body and content type. */
  request(path: string, init?: RequestInit & { token?: string; json?: unknown; ip?: string }): Promise<Response>;
  startWorkers(): Promise<RunningWorkers>;
  close(): Promise<void>;
}

/** Deletes every Redis key under a queue prefix (what a test file leaves behind). */
export async function deleteQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(testServices.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Everything one test file needs, isolated: its own database, its own queue prefix in
 * Redis, the app built on them, and optionally workers sending to `SMTP_URL`.
 */
export async function createTestStack(
  options: {
    env?: Record<string, string>;
    workers?: boolean;
    /** Share another stack's database (and then its owner drops it). */
    database?: TestDatabase;
    /** Log here instead of the default (silent) logger. */
    logger?: Logger;
  } = {},
): Promise<TestStack> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: `t_${randomBytes(5).toString('hex')}`,
    SMTP_URL: 'smtp://127.0.0.1:9',
    PUBLIC_URL: 'http://mandate.test',
    LINK_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    MAIL_BACKOFF_MS: '200',
    SEND_RATE_PER_SECOND: '0',
    TRANSACTIONAL_SEND_RATE_PER_SECOND: '0',
    ...options.env,
  });
  const deps = createDeps(config, options.logger ? { logger: options.logger } : {});
  const app = createApp(deps);

  const stack: TestStack = {
    config,
    deps,
    app,
    database,
    workers: undefined,
    request(path, init = {}) {
      const { token, json, ip, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      // The node server's bindings, so the app sees a client address as it would on a socket.
      const env = { incoming: { socket: { remoteAddress: ip ?? '127.0.0.1' } } };
      return Promise.resolve(
        app.request(path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) }, env),
      );
    },
    async startWorkers() {
      stack.workers ??= await startWorkers(deps);
      return stack.workers;
    },
    async close() {
      await stack.workers?.close();
      await closeDeps(deps);
      await deleteQueueKeys(config.queuePrefix);
      if (!options.database) await database.drop();
    },
  };
  if (options.workers) await stack.startWorkers();
  return stack;
}
