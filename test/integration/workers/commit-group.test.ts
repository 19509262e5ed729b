import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, createSql, type Sql } from '../../../db/client.ts';
import { createCommitGroup, type WriteKind } from '../../../lib/commit-group.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let client: Sql;
beforeAll(async () => {
  stack = await createTestStack();
  client = createSql(stack.config.databaseUrl, { max: 2 });
});
afterAll(async () => {
  await client.end();
  await stack.close();
});

it('writes of one kind handed over together run as one statement, each answered with its own result', async () => {
  const db = createDb(client);
  const group = createCommitGroup(db);
  const calls: number[][] = [];
  // Squares each number in PostgreSQL, in one statement for the whole batch.
  const square: WriteKind<number, number> = {
    name: 'square',
    async run(tx, items) {
      calls.push(items);
      const rows = await tx.execute<{ n: number }>(
        sql`select (v::int * v::int) as n from jsonb_array_elements_text(${JSON.stringify(items)}::jsonb) with ordinality as t(v, i) order by i`,
      );
      return rows.map((r) => r.n);
    },
  };
  const plain: number[] = [];
  const results = await Promise.all([
    ...Array.from({ length: 20 }, (_, i) => group.writeOf(square, i)),
    group.write(async (tx) => {
      const [row] = await tx.execute<{ x: number }>(sql`select 7 as x`);
      plain.push(row?.x ?? 0);
      return -1;
    }),
  ]);
  expect(calls).toEqual([Array.from({ length: 20 }, (_, i) => i)]);
  expect(results).toEqual([...Array.from({ length: 20 }, (_, i) => i * i), -1]);
  expect(plain).toEqual([7]);
  expect(group.commits).toBe(1);
});

it('a kind answering the wrong number of results fails its transaction instead of answering the wrong writes', async () => {
  const db = createDb(client);
  const errors: unknown[] = [];
  let attempts = 0;
  const group = createCommitGroup(db, (error) => errors.push(error));
  const short: WriteKind<number, number> = {
    name: 'short',
    async run(_tx, items) {
      attempts++;
      // Wrong the first time only: the group runs the transaction again, whole.
      return attempts === 1 ? items.slice(1) : items;
    },
  };
  const results = await Promise.all([group.writeOf(short, 1), group.writeOf(short, 2)]);
  expect(results).toEqual([1, 2]);
  expect(String(errors[0])).toMatch(/short: 1 results for 2 writes/);
});
