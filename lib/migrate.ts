import { databaseTimeoutKind } from '../db/errors.ts';
import { MigrationError, migrateDatabase } from '../db/migrate.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { migrateQueueSchema } from './queues/transport.ts';

/**
 * What to tell the person starting Mandate when {@link migrateAll} failed: a migration
 * stopped by its timeout is not an unreachable server.
 */
export function migrationFailureMessage(error: unknown): string {
  // The runner names the migration and says what to do (ADR 20).
  if (error instanceof MigrationError) {
    return databaseTimeoutKind(error.cause) === 'statement'
      ? `${error.message} It ran longer than DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS: raise it (0: none) and run it again.`
      : error.message;
  }
  switch (databaseTimeoutKind(error)) {
    case 'lock':
      return 'A migration waited longer than DATABASE_MIGRATION_LOCK_TIMEOUT_MS for a lock (a long transaction holds its table); nothing was applied. Run it again, or raise the timeout.';
    case 'statement':
      return 'A migration ran longer than DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS; nothing was applied. Raise the timeout (0: none) and run it again.';
    default:
      return 'PostgreSQL is not reachable at DATABASE_URL. Start it (e.g. `docker compose up -d postgres`) or set DATABASE_URL.';
  }
}

/**
 * Everything a start or `npm run db:migrate` applies: the committed migrations and, when
 * the queues run on PostgreSQL, BullMQ's own tables. The only two callers (and the test
 * setup): nothing else migrates.
 */
// Timeouts come from the configuration; callers without one (the tests' template, the
// benchmarks) get the runner's defaults.
export async function migrateAll(
  config: Pick<Config, 'databaseUrl' | 'queueBackend'> &
    Partial<Pick<Config, 'databaseTimeouts' | 'migrationAttempts'>>,
  logger?: Logger,
): Promise<void> {
  await migrateDatabase(config.databaseUrl, logger, {
    timeouts: config.databaseTimeouts?.migrations,
    attempts: config.migrationAttempts,
  });
  if (config.queueBackend === 'postgres') await migrateQueueSchema(config.databaseUrl);
}
