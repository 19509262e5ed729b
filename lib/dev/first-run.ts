import { urlWithoutPassword } from '../../core/text.ts';
import type { Sql } from '../../db/client.ts';
import type { Config } from '../config.ts';
import type { EmbeddedPostgres } from './embedded-postgres.ts';
import { isDevMailActive } from './mailbox.ts';

/**
 * What `npm start` says once it serves: where everything is, and — on a database
 * without any partner yet — the command that creates the first one. One block, so a
 * newcomer finds it above the request logs.
 */
export async function startMessage(
  config: Pick<Config, 'publicUrl' | 'smtpUrl' | 'queueBackend' | 'redisUrl'>,
  sql: Sql,
  embedded: EmbeddedPostgres | undefined,
): Promise<string> {
  const base = config.publicUrl;
  const lines = [
    'Mandate is running',
    `  API            ${base}/v1  (OpenAPI document: ${base}/openapi.json)`,
    `  Dashboard      ${base}/dashboard`,
    `  API reference  ${base}/docs`,
  ];
  if (isDevMailActive(config)) {
    lines.push(`  Dev mailbox    ${base}/dev/mail  (no SMTP_URL: emails are kept there, not sent)`);
  }
  if (embedded) {
    lines.push(`  Database       embedded PostgreSQL at ${embedded.url}, data in ${embedded.dataDir}`);
    // As root from a directory its user cannot enter: say where its things went instead.
    if (embedded.outOfReach)
      lines.push(`                 (not ${embedded.outOfReach}: the user postgres cannot reach it)`);
    if (embedded.binariesDir) {
      lines.push(`                 binaries copied for this run to ${embedded.binariesDir} (removed when it stops)`);
    }
  }
  lines.push(...transportLines(config));
  if ((await countPartners(sql)) === 0) {
    // The CLI finds the database through DATABASE_URL like every entry point, so it needs
    // the embedded server's spelled out.
    const env = embedded ? `DATABASE_URL=${embedded.url} ` : '';
    lines.push(
      '',
      "No partner yet. Create the first one (its owner's password and API token are printed once):",
      `  ${env}npm run mandate -- partner create --name "Northwind Services" --owner-email owner@northwind.example`,
    );
  }
  return lines.join('\n');
}

/** Partner organizations in the database; undefined if it cannot tell (the hint is then left out). */
async function countPartners(sql: Sql): Promise<number | undefined> {
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from organizations where kind = 'partner'`;
    return row?.n;
  } catch {
    return undefined;
  }
}

/** Where the queues and the mail go, as `npm start` chose them (passwords left out). */
export function transportLines(config: Pick<Config, 'smtpUrl' | 'queueBackend' | 'redisUrl'>): string[] {
  const queues =
    config.queueBackend === 'redis'
      ? `Redis at ${urlWithoutPassword(config.redisUrl)}`
      : config.queueBackend === 'postgres'
        ? "PostgreSQL (BullMQ's tables in the schema `bullmq` of the database; no Redis answered)"
        : 'chosen when the workers start (QUEUE_BACKEND=auto)';
  const mail = isDevMailActive(config)
    ? 'kept in the dev mailbox, not sent (SMTP_URL is unset)'
    : `sent through SMTP at ${urlWithoutPassword(config.smtpUrl ?? '')}`;
  return [`  Queues         ${queues}`, `  Mail           ${mail}`];
}
