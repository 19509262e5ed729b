import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, createSql, type Sql } from '../../../db/client.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

/**
 * A PostgreSQL server restarting (or a session ended under it) while a transaction holds
 * its connection: the driver must fail that transaction with a catchable error, not throw
 * from a timer where nothing can catch it — which ended the whole worker or API process
 * (postgres.js 3.4.9 writes to the closed socket; patches/postgres+3.4.9.patch).
 */
let database: TestDatabase;
let client: Sql;
let admin: Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  client = createSql(database.url, { max: 2 });
  admin = postgres(database.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await client?.end({ timeout: 1 });
  await admin?.end({ timeout: 1 });
  await database?.drop();
});

const codeOf = (error: unknown): string | undefined => {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code) return e.code;
  }
  return undefined;
};

it('a transaction whose session the server ends mid-way fails with CONNECTION_CLOSED, and the pool goes on', async () => {
  const db = createDb(client);
  const outcome = await db
    .transaction(async (tx) => {
      const [row] = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      await admin`select pg_terminate_backend(${row?.pid ?? 0})`;
      await new Promise((r) => setTimeout(r, 200));
      await tx.execute(sql`select 1`);
      return 'committed';
    })
    .catch((error: unknown) => error);
  expect(codeOf(outcome)).toBe('CONNECTION_CLOSED');
  // The pool replaces the connection: the next statement runs.
  expect(await client`select 1 as ok`).toEqual([{ ok: 1 }]);
});

it('a reserved connection whose session ended rejects its next statement instead of ending the process', async () => {
  const reserved = await client.reserve();
  const [{ pid }] = (await reserved`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  await admin`select pg_terminate_backend(${pid})`;
  await new Promise((r) => setTimeout(r, 200));
  const outcome = await reserved`select 1`.then(
    () => 'answered',
    (error: unknown) => codeOf(error),
  );
  reserved.release();
  expect(outcome).toBe('CONNECTION_CLOSED');
});
