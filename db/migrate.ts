import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { type DatabaseTimeouts, timeoutParameters } from './client.ts';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Any constant will do: it only has to be the same in every process that migrates. */
const MIGRATION_LOCK_KEY = 727_001;

/**
 * The first line of a migration whose statements must run outside a transaction
 * (`CREATE INDEX CONCURRENTLY`). ADR 20 says what such a migration may hold.
 */
export const NO_TRANSACTION_MARKER = '-- mandate:no-transaction';

/** The lines migrating writes (a pino logger fits); db/ knows no logger of its own. */
export interface MigrationLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(message: string): void;
}

export interface MigrateOptions {
  /** Where the migrations and `meta/_journal.json` are. Default: db/migrations. */
  migrationsFolder?: string;
  /**
   * The migrating connection's statement_timeout and lock_timeout
   * (DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS, DATABASE_MIGRATION_LOCK_TIMEOUT_MS). A
   * transactional migration that waits longer than `lockMs` for a lock gives up its place
   * (rolled back) and is tried again: queued for an exclusive lock, it would hold up every
   * read behind it. Default: no statement timeout, 5000 ms for locks (0: none, no retry).
   */
  timeouts?: DatabaseTimeouts;
  /** Tries of one migration that cannot get its locks before migrating fails. Default 5. */
  attempts?: number;
  /** Wait before the second try, doubled before each next one (±50 %), in ms. Default 1000. */
  backoffMs?: number;
}

interface Migration {
  tag: string;
  /** The journal's `when`, which drizzle records as `created_at`: what says it has run. */
  when: number;
  hash: string;
  statements: string[];
  transaction: boolean;
}

/**
 * The journal's migrations, read as drizzle-orm's own runner reads them (the same hash of
 * the same file, the same breakpoints), so databases migrated by it carry on with this one.
 */
function readMigrations(folder: string): Migration[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[];
  };
  return journal.entries.map(({ tag, when }) => {
    const text = readFileSync(join(folder, `${tag}.sql`), 'utf8');
    return {
      tag,
      when,
      hash: createHash('sha256').update(text).digest('hex'),
      statements: text.split('--> statement-breakpoint').filter((s) => s.trim() !== ''),
      transaction: !text.startsWith(NO_TRANSACTION_MARKER),
    };
  });
}

/** A migration that failed: its message names it and says what to do. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Lock not available (lock_timeout) and deadlock: both mean "try again later". */
const RETRYABLE = new Set(['55P03', '40P01']);

/**
 * Creates the database named in `url` when it does not exist yet, so that a fresh
 * machine needs no manual `createdb`. Needs a role allowed to create databases.
 */
export async function ensureDatabase(url: string, logger?: Pick<MigrationLog, 'info'>): Promise<void> {
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
    // Another process created it between our probe and now: 42P04, or 23505 when the two
    // catalogue inserts collide.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end({ timeout: 1 });
  }
}

type Sql = postgres.Sql;

/** When the last migration that ran was made (drizzle's rule: later ones are pending). */
async function lastApplied(sql: Sql): Promise<number | undefined> {
  const [table] = await sql`select to_regclass('drizzle.__drizzle_migrations') as name`;
  if (!table?.name) return undefined;
  const [last] = await sql`select max(created_at) as created_at from drizzle.__drizzle_migrations`;
  return last?.created_at === null || last?.created_at === undefined ? undefined : Number(last.created_at);
}

/**
 * The tags of the committed migrations the database at `url` has not run, oldest first
 * (all of them when the database does not exist). For the tools that need the schema
 * but do not migrate: they ask for `npm run db:migrate` instead.
 */
export async function pendingMigrations(url: string, folder = migrationsFolder): Promise<string[]> {
  const migrations = readMigrations(folder);
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const last = await lastApplied(sql);
    return migrations.filter((m) => last === undefined || m.when > last).map((m) => m.tag);
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return migrations.map((m) => m.tag);
    throw error;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Waits for the migration lock by asking for it every quarter second, not with
 * `pg_advisory_lock`: a session waiting inside that call holds a snapshot, and
 * `CREATE INDEX CONCURRENTLY` waits for every older snapshot to end — the holder's index
 * would wait for the waiter, which waits for the holder.
 */
async function takeMigrationLock(sql: Sql, logger?: MigrationLog): Promise<void> {
  for (let waited = false; ; waited = true) {
    const [row] = await sql`select pg_try_advisory_lock(${MIGRATION_LOCK_KEY}) as locked`;
    if (row?.locked) return;
    if (!waited) logger?.info({}, 'another process is migrating this database: waiting for it');
    await sleep(200 + Math.random() * 100);
  }
}

/**
 * The advisory lock belongs to the connection: if it dropped, postgres.js has opened a new
 * one without it, and another process may be migrating. Stop rather than race it.
 */
async function assertStillLocked(sql: Sql): Promise<void> {
  const [row] = await sql`
    select exists (select 1 from pg_locks where locktype = 'advisory' and granted
      and pid = pg_backend_pid() and objid = ${MIGRATION_LOCK_KEY}) as held`;
  if (!row?.held)
    throw new MigrationError('lost the migration lock (the connection dropped): run the migrations again');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Index names a no-transaction migration builds, to drop what a failed build left invalid. */
function concurrentIndexNames(migration: Migration): string[] {
  const pattern = /create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?"?([\w$]+)"?/gi;
  return migration.statements.flatMap((s) => [...s.matchAll(pattern)].map((m) => m[1] as string));
}

async function runMigration(sql: Sql, migration: Migration, lockTimeoutMs: number): Promise<void> {
  const record = (q: Sql | postgres.TransactionSql) =>
    q`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.when})`;
  if (migration.transaction) {
    await sql.begin(async (tx) => {
      await tx`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`;
      for (const statement of migration.statements) await tx.unsafe(statement);
      await record(tx);
    });
    return;
  }
  // Outside a transaction, statement by statement; each must be safe to run again (ADR 20).
  // A build that failed or was cut short leaves an invalid index that IF NOT EXISTS would
  // keep: drop it first. We hold the migration lock, so no build of ours is in progress.
  for (const name of concurrentIndexNames(migration)) {
    const [invalid] = await sql`
      select 1 from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = ${name} and c.relnamespace = current_schema()::regnamespace and not i.indisvalid`;
    if (invalid) await sql.unsafe(`drop index concurrently if exists "${name}"`);
  }
  // CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes: it
  // may wait for old transactions and build as long as it needs to, rather than be thrown
  // away and rebuilt. RESET goes back to the connection's own timeouts.
  await sql`select set_config('lock_timeout', '0', false), set_config('statement_timeout', '0', false)`;
  try {
    for (const statement of migration.statements) await sql.unsafe(statement);
    await record(sql);
  } finally {
    await sql`reset lock_timeout`;
    await sql`reset statement_timeout`;
  }
}

/**
 * Applies the committed migrations, each in its own transaction (or none, when it says
 * so: {@link NO_TRANSACTION_MARKER}), with a lock timeout and a few tries. Several
 * processes may start at once (`npm start` twice, `db:migrate` beside a start): one
 * migrates, the others wait for its advisory lock and then find nothing to do.
 */
export async function migrateDatabase(url: string, logger?: MigrationLog, options: MigrateOptions = {}): Promise<void> {
  const { attempts = 5, backoffMs = 1_000 } = options;
  const lockTimeoutMs = options.timeouts?.lockMs ?? 5_000;
  const migrations = readMigrations(options.migrationsFolder ?? migrationsFolder);
  await ensureDatabase(url, logger);
  // One connection: the advisory lock belongs to the session.
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: {
      application_name: 'mandate-migrate',
      ...(options.timeouts ? timeoutParameters(options.timeouts) : {}),
    },
  });
  try {
    await takeMigrationLock(sql, logger);
    await sql`create schema if not exists drizzle`;
    await sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`;
    const last = await lastApplied(sql);
    for (const migration of migrations.filter((m) => last === undefined || m.when > last)) {
      await assertStillLocked(sql);
      for (let attempt = 1; ; attempt++) {
        try {
          await runMigration(sql, migration, lockTimeoutMs);
          logger?.info({ migration: migration.tag }, 'migration applied');
          break;
        } catch (error) {
          const code = (error as { code?: string }).code ?? '';
          if (!RETRYABLE.has(code)) {
            throw new MigrationError(`migration ${migration.tag} failed: ${(error as Error).message}`, {
              cause: error,
            });
          }
          if (attempt >= attempts) {
            throw new MigrationError(
              `migration ${migration.tag} could not take its locks in ${attempts} attempts (waiting up to ` +
                `${lockTimeoutMs} ms each): another session holds a lock on a table it changes — see ` +
                `pg_stat_activity. ${migration.transaction ? 'Nothing of it was applied. ' : ''}Run the ` +
                `migrations again when that session has ended, or raise DATABASE_MIGRATION_LOCK_TIMEOUT_MS.`,
              { cause: error },
            );
          }
          const wait = backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
          logger?.warn(
            { migration: migration.tag, attempt, waitMs: Math.round(wait), code },
            'migration could not take a lock in time; trying again',
          );
          await sleep(wait);
        }
      }
    }
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    logger?.debug('database migrations applied');
  } finally {
    await sql.end({ timeout: 5 });
  }
}
