import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateDatabase, migrationsFolder } from '../../../db/migrate.ts';
import { emptyDatabase, migrationsFolderOf, tempDir } from '../../helpers/migrations.ts';
import { runTsx } from '../../helpers/processes.ts';
import { testServices } from '../../helpers/services.ts';

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
  entries: { idx: number; tag: string; when: number }[];
};

/** What the database says it has run: one row per migration, with the hash of its file. */
async function applied(url: string): Promise<{ hash: string; created_at: string }[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql`select hash, created_at::text from drizzle.__drizzle_migrations order by created_at`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const expected = journal.entries.map(({ tag, when }) => ({
  hash: createHash('sha256')
    .update(readFileSync(join(migrationsFolder, `${tag}.sql`), 'utf8'))
    .digest('hex'),
  created_at: String(when),
}));

describe('migrating', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('three `db:migrate` started at once against no database: all succeed, each migration runs once', async () => {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: testServices.redisUrl,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      DATA_DIR: tempDir('mandate-data-'),
    };
    const runs = await Promise.all([1, 2, 3].map(() => runTsx('bin/migrate.ts', [], env)));
    for (const run of runs) expect(run, run.stderr + run.stdout).toMatchObject({ code: 0 });
    // Exactly one of them applied the migrations; each line names one.
    const appliedBy = runs.map((r) => ((r.stdout + r.stderr).match(/"migration applied"/g) ?? []).length);
    expect(appliedBy.sort()).toEqual([0, 0, journal.entries.length]);
    expect(await applied(database.url)).toEqual(expected);
  }, 120_000);

  it('three runners in one moment with a CREATE INDEX CONCURRENTLY pending: no deadlock, one build', async () => {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    const folder = migrationsFolderOf([
      { tag: '0000_events', sql: 'create table events (id bigint primary key, at timestamptz not null);' },
      {
        tag: '0001_events_at',
        sql: '-- mandate:no-transaction\ncreate index concurrently if not exists events_at_idx on events (at);',
      },
    ]);
    await Promise.all([1, 2, 3].map(() => migrateDatabase(database.url, undefined, { migrationsFolder: folder })));
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 1 }));
    const [index] = await sql`
      select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'events_at_idx'`;
    expect(index?.indisvalid).toBe(true);
    expect(await applied(database.url)).toHaveLength(2);
  }, 60_000);

  it('a no-transaction migration cut short is finished by the next run: its invalid index is rebuilt', async () => {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    const create = { tag: '0000_events', sql: 'create table events (id bigint primary key, at int not null);' };
    await migrateDatabase(database.url, undefined, { migrationsFolder: migrationsFolderOf([create]) });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 1 }));
    // A unique build that fails on duplicates leaves its index behind, invalid: as a crash would.
    await sql`insert into events values (1, 7), (2, 7)`;
    const unique = {
      tag: '0001_events_at',
      sql: '-- mandate:no-transaction\ncreate unique index concurrently if not exists events_at_key on events (at);',
    };
    const folder = migrationsFolderOf([create, unique]);
    await expect(migrateDatabase(database.url, undefined, { migrationsFolder: folder })).rejects.toThrow(
      /0001_events_at failed/,
    );
    await sql`delete from events where id = 2`;
    await migrateDatabase(database.url, undefined, { migrationsFolder: folder });
    const [index] = await sql`
      select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'events_at_key'`;
    expect(index?.indisvalid).toBe(true);
  }, 60_000);

  it('a database migrated by the previous runner (drizzle-orm’s) up to 0027 carries on to the latest', async () => {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    // The migrations as they were when drizzle-orm's migrate() ran them.
    const old = tempDir('mandate-old-migrations-');
    cpSync(migrationsFolder, old, { recursive: true });
    const entries = journal.entries.filter((e) => e.idx <= 27);
    writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
    const admin = postgres(testServices.postgresUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${database.name}"`);
    await admin.end({ timeout: 1 });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await drizzleMigrate(drizzle({ client: sql }), { migrationsFolder: old });
    await sql.end({ timeout: 1 });

    await migrateDatabase(database.url);
    expect(await applied(database.url)).toEqual(expected);
  }, 60_000);
});
