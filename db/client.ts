import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';

export type Sql = postgres.Sql;

/** How long one statement of a pool may run and wait for a lock, in ms; 0 = no limit. */
export interface DatabaseTimeouts {
  statementMs: number;
  lockMs: number;
  /** A transaction left idle this long is ended by the server (its locks with it); 0 or absent: never. */
  idleInTransactionMs?: number;
}

/**
 * PostgreSQL's statement_timeout and lock_timeout for every connection of a pool, sent
 * when it connects: one stuck query or lock then fails its request or job (SQLSTATE 57014
 * or 55P03, see {@link databaseTimeoutKind} in ./errors.ts) instead of holding it forever.
 */
export function timeoutParameters(timeouts: DatabaseTimeouts): Record<string, number> {
  return {
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    ...(timeouts.idleInTransactionMs ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs } : {}),
  };
}

export function createSql(
  url: string,
  options: {
    max?: number;
    onnotice?: (n: postgres.Notice) => void;
    /** Default: none (PostgreSQL's defaults, normally no limit). */
    timeouts?: DatabaseTimeouts;
    /** Shown in pg_stat_activity, so a stuck query says whose it is. Default `mandate`. */
    applicationName?: string;
  } = {},
): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    // Quiet "relation already exists, skipping" and the like.
    onnotice: options.onnotice ?? (() => {}),
    // Dates and bigints arrive as the types the schema declares.
    types: {},
    connection: {
      application_name: options.applicationName ?? 'mandate',
      ...(options.timeouts ? timeoutParameters(options.timeouts) : {}),
    },
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
