import path from 'node:path';
import { urlWithoutPassword } from '../core/text.ts';
import type { Config } from '../lib/config.ts';
import { urlFor } from '../lib/dev/embedded-postgres/common.ts';
import { runningServer } from '../lib/dev/embedded-postgres/server-process.ts';
import { wantsEmbeddedPostgres } from '../lib/dev/embedded-postgres.ts';

/**
 * The database a command that writes to it directly (`partner create`) uses: DATABASE_URL
 * when set; unset, the default address when something answers there, else the embedded
 * PostgreSQL a running `npm start` serves from EMBEDDED_PG_DIR — so the command works
 * beside `npm start` as it is, without copying a URL from its banner.
 */
export async function commandDatabaseUrl(
  config: Pick<Config, 'databaseUrl' | 'embeddedPostgres' | 'embeddedPostgresDir' | 'env'>,
): Promise<string> {
  // The rule `npm start` follows (never in production, never with DATABASE_URL set).
  if (config.embeddedPostgres !== 'auto' || !(await wantsEmbeddedPostgres(config))) return config.databaseUrl;
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
