import { afterAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../../db/migrate.ts';
import { emptyDatabase, tempDir } from '../../helpers/migrations.ts';
import { freePort, runTsx } from '../../helpers/processes.ts';
import { testServices } from '../../helpers/services.ts';

/** The command line's first-hour stumbles (issue 18): what a newcomer sees, not a stack trace. */
const env = (databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  REDIS_URL: testServices.redisUrl,
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: tempDir('mandate-data-'),
  PUBLIC_URL: 'https://mandate.northwind.example',
});
const create = ['partner', 'create', '--name', 'Northwind', '--owner-email', 'owner@northwind.example'];

describe('the command line in the first hour', () => {
  const database = emptyDatabase();
  afterAll(() => database.drop());

  it('a mistyped campaign command exits 2 (usage), naming the command, not 1 (some recipient failed)', async () => {
    const run = await runTsx('cli/mandate.ts', ['campaign', 'sned', 'x.csv'], env(database.url));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^unknown command "campaign sned"/);
    expect(run.stdout).toBe('');
  }, 60_000);

  it('a mistyped group exits 2, naming it', async () => {
    const run = await runTsx('cli/mandate.ts', ['partnr', 'create'], env(database.url));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^unknown command "partnr create"/);
  }, 60_000);

  it('without a database to reach, says what to do instead of printing a stack trace', async () => {
    const closed = await freePort();
    const run = await runTsx('cli/mandate.ts', create, env(`postgres://postgres@127.0.0.1:${closed}/mandate`));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Could not reach PostgreSQL at postgres://postgres@127.0.0.1:${closed}/mandate`);
    expect(run.stderr).toMatch(/npm start/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('`partner create` prints the real address in its sign-in and "Try it" lines', async () => {
    await migrateDatabase(database.url);
    const run = await runTsx('cli/mandate.ts', create, env(database.url));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('<PUBLIC_URL>');
    expect(run.stdout).toContain('sign in at https://mandate.northwind.example/sign-in');
    expect(run.stdout).toMatch(
      /Try it: curl -H "Authorization: Bearer \S+" https:\/\/mandate\.northwind\.example\/v1\/offers/,
    );
  }, 60_000);
});
