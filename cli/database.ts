import path from 'node:path';
import { urlWithoutPassword } from '../core/text.ts';
import type { Config } from '../lib/config.ts';
import { DEFAULT_DATABASE_URL } from '../lib/config.ts';
import { urlFor } from '../lib/dev/embedded-postgres/common.ts';
import { answersAt } from '../lib/dev/embedded-postgres/ports.ts';
import { runningServer } from '../lib/dev/embedded-postgres/server-process.ts';

/**
 * The database a command that writes to it directly (`partner create`) uses: DATABASE_URL
 * when set; unset, the default address when something answers there, else the embedded
 * PostgreSQL a running `npm start` serves from EMBEDDED_PG_DIR — so the command works
 * beside `npm start` as it is, without copying a URL from its banner.
 */
export async function commandDatabaseUrl(
  config: Pick<Config, 'databaseUrl' | 'embeddedPostgres' | 'embeddedPostgresDir'>,
): Promise<string> {
  if (config.embeddedPostgres !== 'auto') return config.databaseUrl;
  const fallback = new URL(DEFAULT_DATABASE_URL);
  if (await answersAt(fallback.hostname, Number(fallback.port || 5432))) return config.databaseUrl;
  const running = await runningServer(path.resolve(config.embeddedPostgresDir));
  return running ? urlFor(running.port) : config.databaseUrl;
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'CONNECT_TIMEOUT',
]);

/**
 * What to say when PostgreSQL could not be reached or refused us, instead of a stack trace;
 * undefined for any other error.
 */
export function databaseProblem(error: unknown, url: string): string | undefined {
  const e = error as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  const where = urlWithoutPassword(url);
  if (unreachableCodes.has(code)) {
    return [
      `Could not reach PostgreSQL at ${where} (${code}).`,
      'Start Mandate first (`npm start` runs its own PostgreSQL when DATABASE_URL is unset, and this',
      'command finds it), or set DATABASE_URL to the database Mandate uses.',
    ].join('\n');
  }
  if (code === '28P01' || code === '28000') {
    return `PostgreSQL at ${where} refused the sign-in (${e?.message}). Check the user and password in DATABASE_URL.`;
  }
  if (code === '3D000') {
    return `PostgreSQL at ${where} has no such database (${e?.message}). Run \`npm run db:migrate\` (it creates it) or fix DATABASE_URL.`;
  }
  return undefined;
}
