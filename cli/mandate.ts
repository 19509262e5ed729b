/**
 * `npm run mandate -- <command>`: the command line for the jobs people script.
 * Output meant for programs goes to stdout; logs go to stderr.
 */

import { isAppError } from '../core/errors.ts';
import { createDb, createSql } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { createPartner } from '../services/partners.ts';
import { formatCreatedPartner, parsePartnerCreateArgs, partnerCreateUsage } from './partner-create.ts';

const usage = `Usage: mandate <command>

Commands:
  partner create   Create a partner organization and its owner

${partnerCreateUsage}`;

async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'partner' && command === 'create') {
    let args: ReturnType<typeof parsePartnerCreateArgs>;
    try {
      args = parsePartnerCreateArgs(rest);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 2;
    }
    const config = loadConfigOrExit();
    const logger = createLogger({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
    await migrateDatabase(config.databaseUrl, logger);
    const sql = createSql(config.databaseUrl, { max: 2 });
    try {
      const created = await createPartner(createDb(sql), args);
      process.stdout.write(`${formatCreatedPartner(created, args.json)}\n`);
      return 0;
    } catch (error) {
      if (isAppError(error)) {
        process.stderr.write(`${error.message}\n`);
        return 1;
      }
      throw error;
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  process.stderr.write(`${usage}\n`);
  return group === undefined || group === 'help' || group === '--help' ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
