/**
 * `npm start`: applies migrations, then runs the API and the workers in one process.
 * The quickest way to a working Mandate; production runs `api` and `worker` apart.
 */
import { createApp } from './api/app.ts';
import { startServer } from './api/server.ts';
import { loadConfigOrExit } from './lib/config.ts';
import { closeDeps, createDeps } from './lib/deps.ts';
import { startEmbeddedPostgresIfWanted } from './lib/dev/embedded-postgres.ts';
import { startMessage } from './lib/dev/first-run.ts';
import { createLogger } from './lib/logger.ts';
import { migrateAll, migrationFailureMessage } from './lib/migrate.ts';
import { resolveQueueBackend } from './lib/queues/transport.ts';
import { onShutdown } from './lib/shutdown.ts';
import { startWorkers } from './workers/run.ts';

const loaded = loadConfigOrExit(process.env, { embeddedPostgres: true, servesHttp: true });
const logger = createLogger(loaded);
// No PostgreSQL configured or found: a private one (lib/dev/embedded-postgres.ts).
const embedded = await startEmbeddedPostgresIfWanted(loaded, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, `the embedded PostgreSQL could not start (set DATABASE_URL to use another server)`);
  process.exit(1);
});
const config = await resolveQueueBackend(embedded ? { ...loaded, databaseUrl: embedded.url } : loaded);
try {
  await migrateAll(config, logger);
} catch (error) {
  logger.fatal({ err: error }, migrationFailureMessage(error));
  process.exit(1);
}
const deps = createDeps(config, { logger });
const workers = await startWorkers(deps).catch((error: unknown) => {
  deps.logger.fatal({ err: error }, error instanceof Error ? error.message : 'workers could not start');
  process.exit(1);
});
const server = await startServer(createApp(deps), config);
logger.info(
  { api: server.url, publicUrl: config.publicUrl, openapi: `${config.publicUrl}/openapi.json` },
  await startMessage(config, deps.sql, embedded),
);
onShutdown(logger, async () => {
  await server.close();
  await workers.close();
  await closeDeps(deps);
  await embedded?.stop();
});
