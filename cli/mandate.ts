/**
 * `npm run mandate -- <command>`: the command line for the jobs people script.
 * Output meant for programs goes to stdout; logs go to stderr.
 */

import { isAppError } from '../core/errors.ts';
import { createDb, createSql } from '../db/client.ts';
import { pendingMigrations } from '../db/migrate.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { createPartner } from '../services/accounts/partners.ts';
import { reportCommandError } from './api-client.ts';
import { campaignFailedUsage, runCampaignFailed } from './campaign-failed.ts';
import { campaignSendUsage, runCampaignSend } from './campaign-send.ts';
import { campaignStatusUsage, runCampaignStatus } from './campaign-status.ts';
import { commandDatabaseUrl, databaseProblem } from './database.ts';
import { formatCreatedPartner, parsePartnerCreateArgs, partnerCreateUsage } from './partner-create.ts';
import { exitCodes } from './progress.ts';

const usage = `Usage: mandate <command>

Commands:
  partner create    Create a partner organization and its owner
  campaign send     Check a CSV file of recipients, send it as a campaign, and watch it finish
  campaign status   A campaign's progress (--watch: until it is done)
  campaign failed   A campaign's failed recipients, with the mail server's reply, as CSV

Each command takes --help. The campaign commands talk to a running Mandate over its API:
MANDATE_URL (default http://localhost:3000) and MANDATE_TOKEN, a partner API token.

${partnerCreateUsage}`;

const campaignCommands = {
  send: { run: runCampaignSend, usage: campaignSendUsage },
  status: { run: runCampaignStatus, usage: campaignStatusUsage },
  failed: { run: runCampaignFailed, usage: campaignFailedUsage },
} as const;

/** A campaign command: results on stdout, progress and problems on stderr, 1 for any error it reports. */
async function runCampaignCommand(command: string | undefined, argv: string[]): Promise<number> {
  const entry =
    command !== undefined && Object.hasOwn(campaignCommands, command)
      ? campaignCommands[command as keyof typeof campaignCommands]
      : undefined;
  if (!entry) {
    const help = command === undefined || command === '--help' || command === '-h' || command === 'help';
    const text = `Usage: mandate campaign send|status|failed …\n\n${Object.values(campaignCommands)
      .map((c) => c.usage)
      .join('\n\n')}\n`;
    if (help) {
      process.stdout.write(text);
      return exitCodes.ok;
    }
    process.stderr.write(`unknown command "campaign ${command}"\n\n${text}`);
    return exitCodes.error;
  }
  try {
    return await entry.run(argv);
  } catch (error) {
    return reportCommandError(error, (text) => process.stderr.write(text));
  }
}

/** What the CLI says when the database has not run every committed migration. */
function schemaBehind(pending: string[]): string {
  const count = pending.length === 1 ? '1 migration has not run' : `${pending.length} migrations have not run`;
  return [
    `The database at DATABASE_URL is not migrated: ${count} (${pending.at(0)}${pending.length > 1 ? ` … ${pending.at(-1)}` : ''}).`,
    'Run `npm run db:migrate` (or start Mandate with `npm start`), then try again.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'campaign') return runCampaignCommand(command, rest);
  if (group === 'partner' && command === 'create') {
    let args: ReturnType<typeof parsePartnerCreateArgs>;
    try {
      args = parsePartnerCreateArgs(rest);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 2;
    }
    const config = loadConfigOrExit();
    const databaseUrl = await commandDatabaseUrl(config);
    const unreachable = (error: unknown) => {
      const problem = databaseProblem(error, databaseUrl);
      if (!problem) throw error;
      process.stderr.write(`${problem}\n`);
      return 1;
    };
    // Only `npm run db:migrate` and `npm start` migrate (ADR 20): a command that changed the
    // schema of a running system as a side effect would take its locks unannounced.
    let pending: string[];
    try {
      pending = await pendingMigrations(databaseUrl);
    } catch (error) {
      return unreachable(error);
    }
    if (pending.length > 0) {
      process.stderr.write(`${schemaBehind(pending)}\n`);
      return 1;
    }
    const sql = createSql(databaseUrl, { max: 2 });
    try {
      const created = await createPartner(createDb(sql), args);
      process.stdout.write(`${formatCreatedPartner(created, { json: args.json, publicUrl: config.publicUrl })}\n`);
      return 0;
    } catch (error) {
      if (isAppError(error)) {
        process.stderr.write(`${error.message}\n`);
        return 1;
      }
      return unreachable(error);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  const help = group === undefined || group === 'help' || group === '--help' || group === '-h';
  if (!help) process.stderr.write(`unknown command "${[group, command].filter(Boolean).join(' ')}"\n\n`);
  process.stderr.write(`${usage}\n`);
  return help ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
