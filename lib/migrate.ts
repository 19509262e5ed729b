import { migrateDatabase } from '../db/migrate.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { migrateQueueSchema } from './queues/transport.ts';

/**
 * Everything a start or `npm run db:migrate` applies: the committed migrations and, when
 * the queues run on PostgreSQL, BullMQ's own tables.
 */
export async function migrateAll(config: Pick<Config, 'databaseUrl' | 'queueBackend'>, logger?: Logger): Promise<void> {
  await migrateDatabase(config.databaseUrl, logger);
  if (config.queueBackend === 'postgres') await migrateQueueSchema(config.databaseUrl);
}
