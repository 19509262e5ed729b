import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../../db/migrate.ts';
import { emptyDatabase, migrationsFolderOf } from '../../helpers/migrations.ts';

const first = {
  tag: '0000_reports',
  sql: 'create table reports (id int primary key);\ninsert into reports values (1);',
};
const second = { tag: '0001_reports_title', sql: 'alter table reports add column title text;' };

/** Resolves with how long `query` took, or with Infinity when it is still waiting after `ms`. */
async function timed(query: Promise<unknown>, ms: number): Promise<number> {
  const started = Date.now();
  const late = new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), ms).unref());
  return Promise.race([query.then(() => Date.now() - started), late]);
}

describe('a migration waiting for a lock held elsewhere', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  /** A database at `first`, and a session reading `reports` in a transaction it keeps open. */
  async function withLongRead() {
    const database = emptyDatabase();
    cleanups.push(() => database.drop());
    await migrateDatabase(database.url, undefined, { migrationsFolder: migrationsFolderOf([first]) });
    const holder = postgres(database.url, { max: 1, onnotice: () => {} });
    const reader = postgres(database.url, { max: 1, onnotice: () => {} });
    cleanups.push(
      () => holder.end({ timeout: 1 }),
      () => reader.end({ timeout: 1 }),
    );
    const session = await holder.reserve();
    await session`begin`;
    await session`select * from reports`;
    return { database, reader, release: () => session`commit`.then(() => session.release()) };
  }

  it('gives up its place after the lock timeout, so reads are not queued behind it, and retries until it gets in', async () => {
    const { database, reader, release } = await withLongRead();
    const migrating = migrateDatabase(database.url, undefined, {
      migrationsFolder: migrationsFolderOf([first, second]),
      timeouts: { statementMs: 0, lockMs: 300 },
      attempts: 20,
      backoffMs: 100,
    });
    migrating.catch(() => {});
    await new Promise((r) => setTimeout(r, 150));
    // Under today's runner the ALTER queues for its exclusive lock and every read waits behind it.
    const readMs = await timed(reader`select count(*) from reports`, 3_000);
    expect(readMs).toBeLessThan(2_000);

    await release();
    await migrating;
    const columns = await reader`select column_name from information_schema.columns where table_name = 'reports'`;
    expect(columns.map((c) => c.column_name).sort()).toEqual(['id', 'title']);
  }, 20_000);

  it('fails with an error naming the migration and the lock when the holder never lets go', async () => {
    const { database, reader } = await withLongRead();
    const migrating = migrateDatabase(database.url, undefined, {
      migrationsFolder: migrationsFolderOf([first, second]),
      timeouts: { statementMs: 0, lockMs: 100 },
      attempts: 3,
      backoffMs: 50,
    });
    const outcome = await timed(
      migrating.then(
        () => 'migrated',
        (error: Error) => error.message,
      ),
      5_000,
    );
    expect(outcome).toBeLessThan(5_000);
    await expect(migrating).rejects.toThrow(/0001_reports_title.*3 attempts/s);
    // Nothing of it was applied, and the table is readable.
    const columns = await reader`select column_name from information_schema.columns where table_name = 'reports'`;
    expect(columns.map((c) => c.column_name)).toEqual(['id']);
  }, 20_000);
});
