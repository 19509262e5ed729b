import { type Logger, pino } from 'pino';
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
 * Errors as pino serializes them, with message and stack cut short: a failed bulk query
 * repeats its SQL and parameters in its message, which must not become a megabyte line.
 */
function serializeError(error: unknown) {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack']) {
    const value = serialized[key];
    if (typeof value === 'string' && value.length > MAX_ERROR_TEXT) {
      serialized[key] = `${value.slice(0, MAX_ERROR_TEXT)}… [${value.length - MAX_ERROR_TEXT} more characters]`;
    }
  }
  return serialized;
}

/**
 * One logger per process. JSON lines on stderr in production (stdout stays free for
 * command output such as the CLI's JSON), pretty in development.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid },
    serializers: { err: serializeError },
  };
  if (config.logPretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino(options, pino.destination(2));
}
