/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL. */
import { loadConfigOrExit } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { resolveQueueBackend } from '../lib/queue-backend.ts';
import { migrateDatabase } from './migrate.ts';

const config = await resolveQueueBackend(loadConfigOrExit());
const logger = createLogger(config);
await migrateDatabase(config.databaseUrl, logger, { queueSchema: config.queueBackend === 'postgres' });
logger.info('migrations applied');
