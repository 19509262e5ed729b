import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type DatabaseTimeouts, timeoutParameters } from './client.ts';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Any constant will do: it only has to be the same in every process that migrates. */
const MIGRATION_LOCK_KEY = 727_001;

/** The lines migrating writes (a pino logger fits); db/ knows no logger of its own. */
export interface MigrationLog {
  info(fields: object, message: string): void;
  debug(message: string): void;
}

/**
 * Creates the database named in `url` when it does not exist yet, so that a fresh
 * machine needs no manual `createdb`. Needs a role allowed to create databases.
 */
export async function ensureDatabase(url: string, logger?: MigrationLog): Promise<void> {
  const probe = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await probe`select 1`;
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end({ timeout: 1 });
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`);
    logger?.info({ database: name }, 'created the database');
  } catch (error) {
    // Another process created it between our probe and now.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end({ timeout: 1 });
  }
}

/**
 * Applies the committed migrations. Several processes may start at once (api and
 * workers), so the work happens under a PostgreSQL advisory lock on one connection.
 * `timeouts` (DATABASE_MIGRATION_*; default none) bound each migration statement; a
 * statement that hits one fails the migration, whose transaction leaves nothing applied.
 */
export async function migrateDatabase(url: string, logger?: MigrationLog, timeouts?: DatabaseTimeouts): Promise<void> {
  await ensureDatabase(url, logger);
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'mandate-migrate', ...(timeouts ? timeoutParameters(timeouts) : {}) },
  });
  try {
    // Waiting while another process migrates is not a stuck lock: wait without the lock
    // timeout, then go back to the connection's own (RESET returns to the value it was
    // opened with) for the migration's statements. One connection (max 1): same session.
    await sql`set lock_timeout = 0`;
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await sql`reset lock_timeout`;
    await migrate(drizzle({ client: sql }), { migrationsFolder });
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    logger?.debug('database migrations applied');
  } finally {
    await sql.end({ timeout: 5 });
  }
}
