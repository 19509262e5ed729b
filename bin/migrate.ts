/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL. */
import { loadConfigOrExit } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { migrateAll, migrationFailureMessage } from '../lib/migrate.ts';
import { resolveQueueBackend } from '../lib/queues/transport.ts';

const config = await resolveQueueBackend(loadConfigOrExit());
const logger = createLogger(config);
try {
  await migrateAll(config, logger);
} catch (error) {
  logger.fatal({ err: error }, migrationFailureMessage(error));
  process.exit(1);
}
logger.info('migrations applied');
