/**
 * `npm start`: applies migrations, then runs the API and the workers in one process.
 * The quickest way to a working Mandate; production runs `api` and `worker` apart.
 */
import { createApp } from './api/app.ts';
import { startServer } from './api/server.ts';
import { migrateDatabase } from './db/migrate.ts';
import { loadConfigOrExit } from './lib/config.ts';
import { closeDeps, createDeps } from './lib/deps.ts';
import { createLogger } from './lib/logger.ts';
import { onShutdown } from './lib/shutdown.ts';
import { startWorkers } from './workers/run.ts';

const config = loadConfigOrExit();
const logger = createLogger(config);
try {
  await migrateDatabase(config.databaseUrl, logger);
} catch (error) {
  logger.fatal(
    { err: error },
    `PostgreSQL is not reachable at DATABASE_URL. Start it (e.g. \`docker compose up -d postgres\`) or set DATABASE_URL.`,
  );
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
  'Mandate is running',
);
onShutdown(logger, async () => {
  await server.close();
  await workers.close();
  await closeDeps(deps);
});
