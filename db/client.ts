import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';

export type Sql = postgres.Sql;

export function createSql(url: string, options: { max?: number; onnotice?: (n: postgres.Notice) => void } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    // Quiet "relation already exists, skipping" and the like.
    onnotice: options.onnotice ?? (() => {}),
    // Dates and bigints arrive as the types the schema declares.
    types: {},
    connection: { application_name: 'mandate' },
  });
}

export function createDb(sql: Sql) {
  return drizzle({ client: sql, schema, casing: 'snake_case' });
}

export type Db = ReturnType<typeof createDb>;
/** A transaction handle: everything a Db can do, inside one transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either the database or a transaction: domain functions accept both. */
export type DbOrTx = Db | Tx;
