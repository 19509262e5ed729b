import { createConnection } from 'node:net';
import {
  createPostgresBackend,
  type PgPool,
  type Processor,
  Queue,
  type QueueOptions,
  runMigrations,
  Worker,
  type WorkerOptions,
} from 'bullmq';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createRedis, failFastOptions, type Redis } from '../redis.ts';

export type QueueBackendKind = 'redis' | 'postgres';

/**
 * Decides where the queues live when QUEUE_BACKEND is `auto` and REDIS_URL is unset:
 * Redis if one answers at the default address within a moment, else PostgreSQL.
 */
export async function resolveQueueBackend(config: Config): Promise<Config> {
  if (config.queueBackend !== 'auto') return config;
  const url = new URL(config.redisUrl);
  const answers = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
  return { ...config, queueBackend: answers ? 'redis' : 'postgres' };
}

/** Options every Queue and Worker of one transport shares (minus the backend itself). */
type Common = Omit<QueueOptions, 'connection' | 'prefix'>;

/**
 * One process's connection to the queues, whichever backend holds them: Redis (one
 * ioredis connection per transport) or PostgreSQL (BullMQ's PostgreSQL backend, on a
 * `pg` pool of its own, in the schema `bullmq` of DATABASE_URL's database). The rest of
 * the code makes Queues and Workers through it and never names the backend.
 */
export interface QueueTransport {
  readonly kind: QueueBackendKind;
  /** The Redis connection (Redis backend only), for checks that only Redis needs. */
  readonly redis: Redis | null;
  createQueue(name: string, options: Common): Queue;
  createWorker(name: string, processor: Processor, options: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker;
  /** Whether the backend answers now (for readiness and fail-fast enqueues). */
  ping(): Promise<void>;
  /** True when a command would be sent at once (not queued behind a reconnect). */
  isConnected(): boolean;
  close(): Promise<void>;
}

export function createQueueTransport(
  config: Config,
  logger: Logger,
  options: { role: 'producer' | 'worker'; poolSize?: number },
): QueueTransport {
  if (config.queueBackend === 'postgres') return postgresTransport(config, logger, options);
  // A producer fails fast (an API request must not hang while Redis is gone); a worker's
  // commands wait for the reconnect.
  const redis = createRedis(config.redisUrl, {
    connectionName: `mandate-${options.role}`,
    ...(options.role === 'producer' ? failFastOptions(config.redisApiCommandTimeoutMs) : {}),
  });
  redis.on('error', (error) => logger.warn({ err: error }, `queue connection error (${options.role})`));
  return {
    kind: 'redis',
    redis,
    createQueue: (name, common) => new Queue(name, { ...common, connection: redis, prefix: config.queuePrefix }),
    createWorker: (name, processor, opts) =>
      new Worker(name, processor, { ...opts, connection: redis, prefix: config.queuePrefix }),
    ping: async () => {
      await redis.ping();
    },
    isConnected: () => redis.status === 'ready',
    close: async () => {
      redis.disconnect();
    },
  };
}

/** BullMQ's PostgreSQL backend keeps its tables in this schema. */
export const QUEUE_SCHEMA = 'bullmq';

function postgresTransport(
  config: Config,
  logger: Logger,
  options: { role: 'producer' | 'worker'; poolSize?: number },
): QueueTransport {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: options.poolSize ?? (options.role === 'producer' ? 4 : 10),
    application_name: `mandate-queue-${options.role}`,
    connectionTimeoutMillis: 3000,
    // BullMQ sets the search path only on pools it builds itself; this one is ours.
    options: `-c search_path=${QUEUE_SCHEMA},public`,
  });
  pool.on('error', (error) => logger.warn({ err: error }, `queue pool error (${options.role})`));
  let healthy = true;
  return {
    kind: 'postgres',
    redis: null,
    // The rest of the code sees plain (Redis-typed) Queues and Workers: the API is the same.
    createQueue: (name, common) =>
      new Queue(name, { ...common, connection: pool as PgPool }, createPostgresBackend) as unknown as Queue,
    createWorker: (name, processor, opts) =>
      new Worker(name, processor, { ...opts, connection: pool as PgPool }, createPostgresBackend) as unknown as Worker,
    ping: async () => {
      try {
        await pool.query('select 1');
        healthy = true;
      } catch (error) {
        healthy = false;
        throw error;
      }
    },
    isConnected: () => healthy,
    close: () => pool.end(),
  };
}

/**
 * Creates or upgrades BullMQ's tables in PostgreSQL (idempotent, under BullMQ's own
 * advisory lock). Run where the database migrations run.
 */
export async function migrateQueueSchema(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'mandate-migrate' });
  await client.connect();
  try {
    await runMigrations(client as never, QUEUE_SCHEMA);
  } finally {
    await client.end();
  }
}
