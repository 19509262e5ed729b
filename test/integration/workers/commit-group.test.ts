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
  await client`create table probe (id text primary key, v int not null default 0)`;
  await client`insert into probe (id) select 'p' || i from generate_series(0, 9) as i`;
});
afterAll(async () => {
  await client.end();
  await stack.close();
});

/** Adds one to each probe row named; written where the row exists. */
const bump = (statements: string[][]): WriteKind<string> => ({
  name: 'bump',
  key: (id) => id,
  ctes: (ids, name) => {
    statements.push(ids);
    return sql`${name('done')} as (
      update probe set v = v + 1 where id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )}) returning id as key)`;
  },
});
/** Sets each probe row named to -1. */
const reset: WriteKind<string> = {
  name: 'reset',
  key: (id) => id,
  ctes: (ids, name) => sql`${name('done')} as (
    update probe set v = -1 where id = any(${`{${ids.join(',')}}`}::text[]) returning id as key)`,
};

it('writes of every kind handed over together are one statement, each answered whether it was written', async () => {
  const group = createCommitGroup(createDb(client));
  const statements: string[][] = [];
  const kind = bump(statements);
  const ids = ['p0', 'p1', 'p2', 'missing', 'p3'];
  const results = await Promise.all([
    ...ids.map((id) => group.writeOf(kind, id)),
    group.writeOf(reset, 'p9'),
    group.writeOf(reset, 'nowhere'),
  ]);
  expect(statements).toEqual([ids]);
  expect(results).toEqual([true, true, true, false, true, true, false]);
  expect(group.commits).toBe(1);
  const rows = await client`select id, v from probe where id in ('p0', 'p3', 'p4', 'p9') order by id`;
  expect(rows.map((r) => [r.id, r.v])).toEqual([
    ['p0', 1],
    ['p3', 1],
    ['p4', 0],
    ['p9', -1],
  ]);
});

it('a plain write sharing the commit runs in the same transaction: when it fails, nothing of the commit stays', async () => {
  const errors: unknown[] = [];
  const group = createCommitGroup(createDb(client), (error) => errors.push(error));
  const kind = bump([]);
  let attempts = 0;
  const [bumped, plain] = await Promise.all([
    group.writeOf(kind, 'p5'),
    group.write(async (tx) => {
      attempts++;
      const [row] = await tx.execute<{ v: number }>(sql`select v from probe where id = 'p5'`);
      // The first time, fail after the bump was written in this transaction: it must roll back.
      if (attempts === 1) throw new Error(`failing with v = ${row?.v}`);
      return row?.v;
    }),
  ]);
  expect(String(errors[0])).toBe('Error: failing with v = 1');
  expect(bumped).toBe(true);
  expect(plain).toBe(1); // bumped once, not twice: the failed transaction left nothing
  expect(group.commits).toBe(1);
});
