/** The PostgreSQL error code of `error`, looking through drizzle's wrapper. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * PostgreSQL refused the statement for the data in it — SQLSTATE class 22 (data exception:
 * a NUL byte, bad encoding, a value too long) or 54 (program limit exceeded: an index row
 * too big) — so running it again gets the same answer.
 */
export function isDataError(error: unknown): boolean {
  return /^(22|54)/.test(pgErrorCode(error) ?? '');
}

/** A unique constraint refused the row: someone else wrote it first. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (pgErrorCode(error) !== '23505') return false;
  if (!constraint) return true;
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { constraint_name?: unknown }).constraint_name === constraint) return true;
  }
  return false;
}

/**
 * Which of a pool's timeouts (db/client.ts) stopped this statement: `statement` for
 * statement_timeout (57014, query_canceled — also what a cancel by an operator gives, which
 * is as retryable), `lock` for lock_timeout (55P03, lock_not_available). Undefined for
 * anything else.
 */
export function databaseTimeoutKind(error: unknown): 'statement' | 'lock' | undefined {
  const code = pgErrorCode(error);
  return code === '57014' ? 'statement' : code === '55P03' ? 'lock' : undefined;
}

/** What a client sees of a connection refused, reset or closed under its query. */
const connectionLostCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * Why PostgreSQL could not be reached, when it could not: `no-reply` (the connection was
 * closed by the API pool's reply timeout, db/reply-timeout.ts), `connect-timeout`
 * (postgres.js's connect_timeout), `connection-lost` (refused, reset or closed). Undefined
 * for anything the server answered, including its own timeouts ({@link databaseTimeoutKind}).
 */
export function databaseUnreachableKind(
  error: unknown,
): 'no-reply' | 'connect-timeout' | 'connection-lost' | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'DATABASE_REPLY_TIMEOUT') return 'no-reply';
    if (code === 'CONNECT_TIMEOUT') return 'connect-timeout';
    if (typeof code === 'string' && connectionLostCodes.has(code)) return 'connection-lost';
  }
  return undefined;
}
