import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { RecipientSchema } from '../api/routes/campaigns/schemas.ts';
import { recipientExportHeader, recipientExportLine } from '../core/recipient-export.ts';
import { sanitizeEcho } from '../core/text.ts';
import {
  type ApiClient,
  apiCommandOptions,
  createApiClient,
  parseCampaignCommand,
  resolveConnection,
  UsageError,
} from './api-client.ts';
import type { components } from './api-types.ts';
import { exitCodes } from './progress.ts';

export const campaignFailedUsage = `Usage: mandate campaign failed <campaign id> [--csv <file>] [--json] [--url <url>] [--token <token>]

Writes the campaign's failed recipients as CSV, with the mail server's reply, to <file>
(or to stdout without --csv): the columns of the dashboard's export. With --json: one
line of JSON on stdout ({"campaignId","failed","file"}).

Exit code: 0 no recipient failed, 1 some did, 2 usage, connection or HTTP errors.
Connection: --url or MANDATE_URL (default http://localhost:3000), --token or MANDATE_TOKEN.`;

export type FailedRecipient = components['schemas']['Recipient'];

const RecipientPage = z.object({ items: z.array(RecipientSchema), nextCursor: z.string().nullable() });

/** `address: reply` for the terminal (control characters removed: the reply comes from a mail server). */
export function describeFailure(r: FailedRecipient): string {
  const why = r.smtpReply ?? r.failureReason ?? 'no reply recorded';
  return `${sanitizeEcho(r.email, 254)}: ${sanitizeEcho(why.replace(/\s+/g, ' '), 300)}`;
}

/** The failures `shown`, one a line, then how many more of the `total` there are. */
export function writeFailures(out: NodeJS.WritableStream, shown: FailedRecipient[], total: number): void {
  for (const r of shown) out.write(`  ${describeFailure(r)}\n`);
  if (total > shown.length) out.write(`  … and ${(total - shown.length).toLocaleString('en')} more\n`);
}

/** One page of a campaign's failed recipients (`GET /v1/campaigns/{id}/recipients?state=failed`). */
export async function fetchFailedPage(
  client: ApiClient,
  campaignId: string,
  page: { cursor?: string | undefined; limit: number },
) {
  const { data } = await client.call(
    (api, signal) =>
      api.GET('/v1/campaigns/{id}/recipients', {
        params: { path: { id: campaignId }, query: { state: 'failed', limit: page.limit, cursor: page.cursor } },
        signal,
      }),
    RecipientPage,
  );
  return data;
}

/** Writes to the stream, waiting when its buffer is full (a file of 100,000 rows stays out of memory). */
async function writeChunk(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (chunk !== '' && !stream.write(chunk)) await once(stream, 'drain');
}

/** Opens `path` for writing; a path that cannot be written is the user's to fix. */
async function openFile(path: string): Promise<WriteStream> {
  const file = createWriteStream(path);
  try {
    await once(file, 'open');
  } catch (error) {
    throw new UsageError(`Cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return file;
}

/** `mandate campaign failed <id> [--csv out.csv]`. */
export async function runCampaignFailed(argv: string[]): Promise<number> {
  const command = parseCampaignCommand(argv, parseFailedArgs, campaignFailedUsage);
  if (!command) return exitCodes.ok;
  const { values, id } = command;
  const path = values.csv;
  if (values.json && path === undefined) {
    throw new UsageError(`--json needs --csv <file> (the CSV itself would be on stdout).\n\n${campaignFailedUsage}`);
  }
  const client = createApiClient(resolveConnection(values, process.env, campaignFailedUsage));

  const shown: FailedRecipient[] = [];
  let file: WriteStream | undefined;
  let failed = 0;
  let cursor: string | undefined;
  let first = true;
  try {
    do {
      const page = await fetchFailedPage(client, id, { cursor, limit: 1000 });
      if (first) {
        // Created once the first page is in: a wrong id or token leaves no file behind.
        if (path !== undefined) file = await openFile(path);
        await writeChunk(file ?? process.stdout, recipientExportHeader);
        first = false;
      }
      await writeChunk(file ?? process.stdout, page.items.map(recipientExportLine).join(''));
      shown.push(...page.items.slice(0, 10 - shown.length));
      failed += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (file) {
      file.end();
      await once(file, 'finish');
    }
  } catch (error) {
    // Half a file would pass for the whole list.
    if (file && path !== undefined) {
      file.destroy();
      await rm(path, { force: true });
    }
    throw error;
  }

  writeFailures(process.stderr, shown, failed);
  const summary =
    failed === 0
      ? `No recipient of ${id} failed.`
      : `${failed.toLocaleString('en')} failed recipient${failed === 1 ? '' : 's'} of ${id}${path === undefined ? '.' : ` written to ${path}.`}`;
  if (values.json) process.stdout.write(`${JSON.stringify({ campaignId: id, failed, file: path })}\n`);
  // With the CSV on stdout, the summary goes to stderr so the file stays clean.
  else (path === undefined ? process.stderr : process.stdout).write(`${summary}\n`);
  return failed > 0 ? exitCodes.failed : exitCodes.ok;
}

function parseFailedArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      csv: { type: 'string' },
      ...apiCommandOptions,
    },
    allowPositionals: true,
    strict: true,
  });
}
