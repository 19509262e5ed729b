import { type Logger, pino } from 'pino';
import { pgErrorCode } from '../db/errors.ts';
import type { Config } from './config.ts';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log object. Secrets must never be
 * logged in the first place; this is the second line of defence.
 */
export const redactPaths = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'linkSecret',
  '*.linkSecret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'temporaryPassword',
  '*.temporaryPassword',
];

const MAX_ERROR_TEXT = 2000;

/**
 * Errors as pino serializes them, made safe for logs: a failed query carries its SQL and
 * every parameter (recipients' addresses, token hashes) in `params` and in its message.
 * Parameters are dropped (their count kept), the message cut before them, and long text
 * cut short, so one failed bulk insert cannot become a megabyte line of personal data.
 */
export function serializeError(error: unknown) {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  stripParams(serialized);
  // The PostgreSQL code of a wrapped driver error says more than the wrapper's message.
  const code = pgErrorCode(error);
  if (code) serialized.pgCode = code;
  for (const key of ['message', 'stack', 'query']) {
    const value = serialized[key];
    if (typeof value === 'string' && value.length > MAX_ERROR_TEXT) {
      serialized[key] = `${value.slice(0, MAX_ERROR_TEXT)}… [${value.length - MAX_ERROR_TEXT} more characters]`;
    }
  }
  return serialized;
}

/**
 * The text of an error without the parameters of a failed query: drizzle puts
 * "\nparams: …" after the SQL in the message (and so in the stack), and they can be
 * secrets (a password's hash, a sealed value).
 */
export function redactQueryParams(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [redacted]');
}

function stripParams(serialized: Record<string, unknown>, depth = 0): void {
  for (const key of ['params', 'parameters']) {
    const value = serialized[key];
    if (Array.isArray(value)) serialized[key] = `[${value.length} parameters]`;
  }
  for (const key of ['message', 'stack']) {
    const value = serialized[key];
    if (typeof value === 'string') serialized[key] = redactQueryParams(value);
  }
  const cause = serialized.cause;
  if (cause && typeof cause === 'object' && depth < 3) stripParams(cause as Record<string, unknown>, depth + 1);
}

/**
 * One logger per process. JSON lines on stderr in production (stdout stays free for
 * command output such as the CLI's JSON), pretty in development at a terminal. Pretty
 * (LOG_PRETTY=true) to a file or a pipe stays one line per record and colourless: colour
 * codes and a line per field belong to a person reading a terminal, not to a file.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logPretty'>,
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid },
    serializers: { err: serializeError },
  };
  if (destination) return pino(options, destination);
  if (config.logPretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { destination: 2, ...prettyOptions(process.stderr.isTTY) } },
    });
  }
  return pino(options, pino.destination(2));
}

/** pino-pretty's options for a destination that is a terminal (`tty`) or not. */
function prettyOptions(tty: boolean | undefined) {
  const terminal = tty === true;
  return { colorize: terminal, singleLine: !terminal, ignore: 'pid,hostname' };
}
