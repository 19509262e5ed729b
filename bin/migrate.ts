/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL. */
import { loadConfigOrExit } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { migrateAll } from '../lib/migrate.ts';
import { resolveQueueBackend } from '../lib/queues/transport.ts';

const config = await resolveQueueBackend(loadConfigOrExit());
const logger = createLogger(config);
await migrateAll(config, logger);
logger.info('migrations applied');
