import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../../db/migrate.ts';
import { emptyDatabase, tempDir } from '../../helpers/migrations.ts';
import { runTsx } from '../../helpers/processes.ts';
import { testServices } from '../../helpers/services.ts';

const args = ['partner', 'create', '--name', 'Northwind', '--owner-email', 'owner@northwind.example', '--json'];
const env = (url: string) => ({
  DATABASE_URL: url,
  REDIS_URL: testServices.redisUrl,
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: tempDir('mandate-data-'),
});

describe('`partner create` against a database that is behind', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('does not migrate it: it says to run the migrations, and changes nothing', async () => {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    const run = await runTsx('cli/mandate.ts', args, env(database.url));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/not migrated.*npm run db:migrate/s);
    const admin = postgres(testServices.postgresUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => admin.end({ timeout: 1 }));
    expect(await admin`select 1 from pg_database where datname = ${database.name}`).toHaveLength(0);
  }, 60_000);

  it('names the migrations missing from a database migrated before the latest', async () => {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    await migrateDatabase(database.url);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 1 }));
    const [last] = await sql`delete from drizzle.__drizzle_migrations
      where created_at = (select max(created_at) from drizzle.__drizzle_migrations) returning created_at`;
    expect(last).toBeDefined();
    const run = await runTsx('cli/mandate.ts', args, env(database.url));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/1 migration has not run/);
    expect(await sql`select 1 from organizations`).toHaveLength(0);
  }, 60_000);
});
