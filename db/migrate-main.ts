/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL. */
import { loadConfigOrExit } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { migrateDatabase } from './migrate.ts';

const config = loadConfigOrExit();
const logger = createLogger(config);
await migrateDatabase(config.databaseUrl, logger);
logger.info('migrations applied');
