import net from 'node:net';

/**
 * Thrown into every query of a connection on which PostgreSQL said nothing for the reply
 * timeout while a query waited: the path to the server is presumed dead and the
 * connection is closed. `code` is not a SQLSTATE: the server never answered.
 */
export class DatabaseReplyTimeoutError extends Error {
  override name = 'DatabaseReplyTimeoutError';
  readonly code = 'DATABASE_REPLY_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`PostgreSQL sent nothing for ${timeoutMs} ms while a query waited; the connection was closed`);
  }
}

/** ReadyForQuery: the server's last word on a query (or a pipeline up to a Sync). */
const READY_FOR_QUERY = 0x5a; // Z
/** The messages a client sends that the server answers with one ReadyForQuery each. */
const SYNC = 0x53; // S
const SIMPLE_QUERY = 0x51; // Q
/** Sent after a Describe (a statement's first run with parameters): the server answers without a ReadyForQuery. */
const FLUSH = 0x48; // H

/**
 * Calls `onMessage` with the type byte of each message of one direction of the PostgreSQL
 * protocol (a type byte, then an int32 length counting itself, then the body), however the
 * messages are split into chunks. `untypedFirst`: the first message has no type byte (a
 * client's startup or cancel request) and is skipped.
 */
export function messageTypeReader(onMessage: (type: number) => void, untypedFirst = false) {
  let header = Buffer.alloc(0);
  let skip = 0;
  let untyped = untypedFirst;
  return (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const headerLength = untyped ? 4 : 5;
      const take = Math.min(headerLength - header.length, chunk.length - i);
      header = Buffer.concat([header, chunk.subarray(i, i + take)]);
      i += take;
      if (header.length < headerLength) break;
      if (untyped) untyped = false;
      else onMessage(header[0] as number);
      skip = header.readUInt32BE(headerLength - 4) - 4;
      header = Buffer.alloc(0);
    }
  };
}

/**
 * Watches one connection of a pool so that no query waits on it forever:
 *
 * - Closes `socket` with a {@link DatabaseReplyTimeoutError} when the server sends nothing
 *   for `timeoutMs` while at least one query waits for its answer. An idle connection, or
 *   one whose transaction is busy in application code, is never touched; a query that
 *   streams rows keeps it alive. PostgreSQL's own statement_timeout answers a slow query
 *   first, so this bound is only reached when the server cannot answer at all: a
 *   partition, a frozen host. The startup is left to postgres.js's connect_timeout.
 * Call it after `socket.connect()`, which would undo the watch on writes.
 *
 * - Reports every `close` as one without an error. postgres.js 3.4 leaves a connection in
 *   its pool between its socket's `error` and `close`, and on a `close` after an error
 *   rejects nothing: a query handed to it in that moment waited forever (seen under the
 *   fault proxy's `reset`). On a plain `close` it rejects what is pending with
 *   CONNECTION_CLOSED; the error itself has already failed the queries it reached. (It
 *   also counts such closes towards its reconnect backoff no longer: a connection is only
 *   opened for a query, so that spins nothing.)
 */
export function watchConnection(socket: net.Socket, timeoutMs: number): void {
  let waiting = 0;
  /** A Flush sent and nothing received since: its answer is due. */
  let flushed = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const start = () => {
    stop();
    timer = setTimeout(() => socket.destroy(new DatabaseReplyTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
  };
  const readSent = messageTypeReader((type) => {
    if (type === SYNC || type === SIMPLE_QUERY) waiting++;
    if (type === FLUSH) flushed = true;
  }, true);
  const readReceived = messageTypeReader((type) => {
    // The startup's own ReadyForQuery was not counted as waited for.
    if (type === READY_FOR_QUERY) waiting = Math.max(0, waiting - 1);
  });

  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) readSent(Buffer.from(chunk as Buffer));
    // Silence is counted from the first unanswered write: a dead path accepts more writes.
    if ((waiting > 0 || flushed) && !timer) start();
    return write(chunk, ...rest);
  }) as typeof socket.write;
  socket.on('data', (chunk: Buffer) => {
    readReceived(chunk);
    flushed = false;
    if (waiting > 0) start();
    else stop();
  });
  socket.once('close', stop);
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]) =>
    event === 'close' ? emit('close', false) : emit(event, ...args)) as typeof socket.emit;
}

/**
 * postgres.js's `socket` option: a plain TCP (or Unix socket) connection to the server that
 * {@link watchConnection} watches. Connected here, so postgres.js's connect_timeout covers
 * the TCP handshake as well as the startup. Not for TLS, whose bytes cannot be read here
 * (see {@link usesTls}).
 */
export function watchedSocket(timeoutMs: number) {
  let next = 0;
  return (options: { host: string[]; port: number[]; path?: string | false }) => {
    const socket = new net.Socket();
    if (options.path) socket.connect(options.path);
    else {
      // The hosts of a multi-host URL in turn, as postgres.js does.
      const i = next++ % options.host.length;
      socket.connect(options.port[i] ?? options.port[0] ?? 5432, options.host[i] as string);
    }
    // After connect(), which puts back the prototype's `write`.
    watchConnection(socket, timeoutMs);
    return socket;
  };
}

/** Whether a PostgreSQL URL asks for TLS (`ssl` or `sslmode` other than disable). */
export function usesTls(url: string): boolean {
  const query = new URL(url).searchParams;
  const mode = query.get('sslmode') ?? query.get('ssl');
  return mode !== null && mode !== 'disable' && mode !== 'false';
}
