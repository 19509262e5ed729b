import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { usesTls, watchedSocket } from './reply-timeout.ts';
import * as schema from './schema/index.ts';

export type Sql = postgres.Sql;

/** How long one statement of a pool may run and wait for a lock, in ms; 0 = no limit. */
export interface DatabaseTimeouts {
  statementMs: number;
  lockMs: number;
  /** A transaction left idle this long is ended by the server (its locks with it); 0 or absent: never. */
  idleInTransactionMs?: number;
  /**
   * Client side: a connection on which the server says nothing this long while a query
   * waits is closed and its queries fail (db/reply-timeout.ts). Longer than `statementMs`,
   * so it only ends what the server cannot answer. 0 or absent: never.
   */
  replyMs?: number;
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
    /** Longest a new connection may take to be ready (TCP, TLS, startup), in ms; 0: none. Default postgres.js's 30 s. */
    connectTimeoutMs?: number;
  } = {},
): Sql {
  const replyMs = options.timeouts?.replyMs ?? 0;
  return postgres(url, {
    max: options.max ?? 10,
    ...(options.connectTimeoutMs === undefined ? {} : { connect_timeout: options.connectTimeoutMs / 1000 }),
    // Under TLS the connection cannot be watched (the bytes are encrypted): it has no reply timeout.
    ...(replyMs > 0 && !usesTls(url) ? { socket: watchedSocket(replyMs) } : {}),
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
