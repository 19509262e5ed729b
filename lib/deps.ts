import { createDb, createSql, type Db, type Sql } from '../db/client.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Mailer } from './mailer.ts';
import { Queues } from './queues/producer.ts';
import { createDatabaseRateLimits, createRateLimits, type RateLimits } from './rate-limits.ts';
import { createRedis, failFastOptions, type Redis } from './redis.ts';

/**
 * What domain functions, routes and jobs need from the outside world. Built once per
 * process (or per test file) and passed down; there are no module-level singletons,
 * so tests can run many isolated instances side by side.
 */
export interface Deps {
  config: Config;
  logger: Logger;
  /** The API's pool (DATABASE_API_* timeouts); a worker's deps carry the workers' pool instead. */
  sql: Sql;
  db: Db;
  /**
   * For the app's own use (health checks, rate limits); queues have their own. Null when
   * the queues run on PostgreSQL: there is no Redis then.
   */
  redis: Redis | null;
  queues: Queues;
  /** Sign-in and acceptance limits, kept in Redis. */
  rateLimits: RateLimits;
}

/** What a worker process has: the app's dependencies plus an SMTP transport. */
export interface WorkerDeps extends Deps {
  mailer: Mailer;
  /** This process as the leases it holds name it (lib/worker-process.ts). */
  processId: string;
}

export function createDeps(config: Config, options: { logger?: Logger } = {}): Deps {
  const logger = options.logger ?? createLogger(config);
  if (config.linkSecretIsDefault && config.env !== 'test') {
    logger.warn(
      config.linkSecretFile
        ? `LINK_SECRET is not set: links use the development key kept in ${config.linkSecretFile}. Set it before real use.`
        : 'LINK_SECRET is not set: links use a key made for this process only. Set it before real use.',
    );
  }
  // The API's pool: its timeouts (DATABASE_API_*) are a request's. Workers open their own
  // pool with theirs (workers/run.ts).
  const sql = createSql(config.databaseUrl, {
    max: config.databasePoolSize,
    timeouts: config.databaseTimeouts.api,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
    applicationName: 'mandate-api',
  });
  const db = createDb(sql);
  let redis: Redis | null = null;
  if (config.queueBackend !== 'postgres') {
    redis = createRedis(config.redisUrl, {
      ...failFastOptions(config.redisApiCommandTimeoutMs),
      connectionName: 'mandate-app',
    });
    redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  }
  const queues = new Queues(config, logger);
  const rateLimits = redis ? createRateLimits(redis, config.queuePrefix) : createDatabaseRateLimits(db);
  return { config, logger, sql, db, redis, queues, rateLimits };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.queues.close();
  deps.redis?.disconnect();
  await deps.sql.end({ timeout: 5 });
}
