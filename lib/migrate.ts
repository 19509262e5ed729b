import { migrateDatabase } from '../db/migrate.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { migrateQueueSchema } from './queues/transport.ts';

/**
 * Everything a start or `npm run db:migrate` applies: the committed migrations and, when
 * the queues run on PostgreSQL, BullMQ's own tables. The only two callers (and the test
 * setup): nothing else migrates.
 */
export async function migrateAll(
  config: Pick<Config, 'databaseUrl' | 'queueBackend'> &
    Partial<Pick<Config, 'migrationLockTimeoutMs' | 'migrationAttempts'>>,
  logger?: Logger,
): Promise<void> {
  await migrateDatabase(config.databaseUrl, logger, {
    lockTimeoutMs: config.migrationLockTimeoutMs,
    attempts: config.migrationAttempts,
  });
  if (config.queueBackend === 'postgres') await migrateQueueSchema(config.databaseUrl);
}
