import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { CreatedCampaignSchema } from '../api/routes/campaigns/schemas.ts';
import { AppError, isAppError } from '../core/errors.ts';
import { type RejectedRecipient, screenRecipients } from '../core/recipients.ts';
import { decodeRecipientsCsv, parseRecipientsCsv } from '../core/recipients-csv.ts';
import { sanitizeEcho } from '../core/text.ts';
import {
  type ApiClient,
  ApiError,
  apiCommandOptions,
  ConnectionError,
  createApiClient,
  resolveConnection,
  UsageError,
} from './api-client.ts';
import { fetchFailedPage, writeFailures } from './campaign-failed.ts';
import { printCampaignSummary, watchCampaign } from './campaign-status.ts';
import { exitCodes } from './progress.ts';

export const campaignSendUsage = `Usage: mandate campaign send --offer <offer id> --csv <file> [--name <campaign name>]
                              [--dry-run] [--json] [--url <url>] [--token <token>]

Checks the file first, with the server's own rules, and lists the rows it rejects
(invalid addresses, duplicates) on stderr; then sends it as a campaign of the offer and
shows its progress until every email is sent or has failed. The file is CSV, UTF-8, with
the header email,name,company (name and company optional); at most 100,000 rows.

Running the same command again (same file, same offer, within 24 hours) sends nothing
new: it follows the campaign the first run created. Safe to repeat after a network error.

  --dry-run  check the file only; nothing is sent, no token needed
  --json     one line of JSON on stdout at the end (progress stays on stderr)

Exit code: 0 every recipient sent (rejected rows are listed, not sent), 1 some failed,
2 usage, connection or HTTP errors, 130 stopped watching with Ctrl-C (the campaign goes on).
Connection: --url or MANDATE_URL (default http://localhost:3000), --token or MANDATE_TOKEN.`;

export interface RejectedRow extends RejectedRecipient {
  /** 1-based line of the file where the row starts (header and blank lines counted). */
  line: number | undefined;
}

export interface CheckedFile {
  /** Data rows read (blank lines skipped). */
  rows: number;
  /** Rows the server will send to. */
  accepted: number;
  rejected: RejectedRow[];
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

/**
 * The line where each data row of a CSV starts (core/recipients-csv.ts reports rows, not
 * lines). csv-parse says where each record ends (in bytes); the start is the first
 * character after that which is not white space or a line break, and its line is counted
 * here, in one pass — csv-parse's own line counter counts a CRLF inside quotes twice.
 * Record boundaries do not depend on the header or on column counts, so only the options
 * that move them must match the server's: `bom`, `skip_empty_lines`, `trim`.
 * Returns one entry per data row.
 */
export function dataRowLines(text: string): number[] {
  const bytes = Buffer.from(text, 'utf8');
  const starts: number[] = [];
  let position = 0;
  let line = 1;
  let previousEnd = 0;
  parse(bytes, {
    bom: true,
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
    on_record: (_record, context) => {
      let start = previousEnd;
      while (start < context.bytes && isBlank(bytes[start])) start++;
      for (; position < start; position++) {
        // A line ends at LF, at CRLF (counted at its LF) and at a lone CR.
        if (bytes[position] === 0x0a || (bytes[position] === 0x0d && bytes[position + 1] !== 0x0a)) line++;
      }
      starts.push(line);
      previousEnd = context.bytes;
      return null;
    },
  });
  return starts.slice(1);
}

/** Space, tab, CR, LF: what may come between two records (blank lines, trimmed space). */
const isBlank = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/**
 * Checks a recipients file as the server will (`POST /v1/campaigns` with text/csv): UTF-8,
 * the CSV rules of parseRecipientsCsv, the screening of screenRecipients. One pass each,
 * linear in the file. Throws an AppError for a file the server would refuse as a whole.
 */
export function checkRecipientsFile(bytes: Uint8Array): CheckedFile {
  const text = decodeRecipientsCsv(bytes);
  const rows = parseRecipientsCsv(text);
  if (rows.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'The file has no recipients: only a header, or nothing');
  }
  const { accepted, rejected } = screenRecipients(rows);
  // Lines are worth a second read only when there is something to point at.
  const lines = rejected.length > 0 ? dataRowLines(text) : [];
  const located = lines.length === rows.length;
  return {
    rows: rows.length,
    accepted: accepted.length,
    rejected: rejected.map((r) => ({ ...r, line: located ? lines[r.row - 1] : undefined })),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/**
 * The `Idempotency-Key` of a send: the same file to the same offer is the same request,
 * so a repeat (after a timeout, a lost answer, a Ctrl-C) gets the first campaign back.
 */
export function sendIdempotencyKey(offerId: string, fileSha256: string): string {
  return `campaign-csv-${createHash('sha256').update(`${offerId}\n${fileSha256}`).digest('hex')}`;
}

/**
 * `row 11 (line 12): not-an-address — email is not a valid address`: the API's `row` (data
 * rows, header not counted), and the file's line where it is known. The address is already
 * made safe by screenRecipients.
 */
export function formatRejectedRow(r: RejectedRow): string {
  const where = r.line === undefined ? `row ${r.row}` : `row ${r.row} (line ${r.line})`;
  return `  ${where}: ${r.email === '' ? '(empty)' : r.email} — ${r.reason}`;
}

/** The message for a file that cannot be read at all. */
function unreadable(path: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `No such file: ${path}`;
    case 'EISDIR':
      return `${path} is a directory, not a CSV file`;
    case 'EACCES':
    case 'EPERM':
      return `Cannot read ${path}: permission denied`;
    default:
      return `Cannot read ${path}: ${error.code ?? error.message}`;
  }
}

/**
 * Posts the file. A repeat of the same key while the first request is still being
 * handled answers 409 CONFLICT: wait for it rather than fail, then get its answer.
 */
async function postCampaign(
  client: ApiClient,
  csv: string,
  query: { offerId: string; name: string | undefined },
  idempotencyKey: string,
) {
  const deadline = performance.now() + 120_000;
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await client.call(
        (api, signal) =>
          api.POST('/v1/campaigns', {
            params: { query, header: { 'idempotency-key': idempotencyKey } },
            headers: { 'content-type': 'text/csv; charset=utf-8' },
            body: csv,
            // As it is: the default would send it as a JSON string.
            bodySerializer: (body) => body,
            signal,
          }),
        CreatedCampaignSchema,
        // The server reads, screens and inserts up to 100,000 rows in one request.
        { timeoutMs: 300_000 },
      );
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'CONFLICT') || performance.now() > deadline) throw error;
      await sleep(wait);
    }
  }
}

/** `mandate campaign send --offer <id> --csv <file>`. */
export async function runCampaignSend(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseSendArgs>['values'];
  try {
    ({ values } = parseSendArgs(argv));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${campaignSendUsage}`);
  }
  if (values.help) {
    process.stdout.write(`${campaignSendUsage}\n`);
    return exitCodes.ok;
  }
  const missing = [values.offer === undefined && '--offer', values.csv === undefined && '--csv'].filter(Boolean);
  if (values.offer === undefined || values.csv === undefined) {
    throw new UsageError(`Missing ${missing.join(' and ')}.\n\n${campaignSendUsage}`);
  }
  const offerId = values.offer;
  const path = values.csv;
  // Before reading a large file: a missing token is known now.
  const client = values['dry-run']
    ? undefined
    : createApiClient(resolveConnection(values, process.env, campaignSendUsage));

  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(unreadable(path, error as NodeJS.ErrnoException));
  }
  let file: CheckedFile;
  try {
    file = checkRecipientsFile(bytes);
  } catch (error) {
    if (!isAppError(error)) throw error;
    const issues = (error.issues ?? []).map((i) => `\n  ${i.path}: ${i.message}`).join('');
    throw new UsageError(`${path}: ${sanitizeEcho(error.message, 500)}${issues}\nNothing was sent.`);
  }

  const err = process.stderr;
  if (file.rejected.length > 0) {
    err.write(
      `${path}: ${file.rejected.length.toLocaleString('en')} of ${file.rows.toLocaleString('en')} rows rejected, not sent:\n`,
    );
    // One write per thousand lines: a file of bad rows must not cost a syscall per row.
    for (let i = 0; i < file.rejected.length; i += 1000) {
      err.write(
        `${file.rejected
          .slice(i, i + 1000)
          .map(formatRejectedRow)
          .join('\n')}\n`,
      );
    }
  }
  err.write(`${path}: ${file.accepted.toLocaleString('en')} recipient${file.accepted === 1 ? '' : 's'} to send.\n`);

  if (client === undefined) {
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ file: path, rows: file.rows, accepted: file.accepted, rejected: file.rejected.length, sha256: file.sha256 })}\n`,
      );
    }
    return file.accepted === 0 ? exitCodes.failed : exitCodes.ok;
  }
  if (file.accepted === 0) {
    err.write('No row can be sent; no campaign was created.\n');
    return exitCodes.failed;
  }

  let posted: Awaited<ReturnType<typeof postCampaign>>;
  try {
    posted = await postCampaign(
      client,
      // The check decoded it as UTF-8 (or refused it): this text encodes back to the same bytes.
      bytes.toString('utf8'),
      { offerId, name: values.name },
      sendIdempotencyKey(offerId, file.sha256),
    );
  } catch (error) {
    if (!(error instanceof ConnectionError)) throw error;
    // The server may have created the campaign before the connection broke.
    throw new ConnectionError(
      `${error.message}\nRun the same command again: it follows the campaign if one was created, and creates one otherwise.`,
    );
  }
  const { data: created, headers } = posted;
  if (headers.get('idempotent-replayed') === 'true') {
    err.write(`This file was already sent to this offer as campaign ${created.id}; following it.\n`);
  } else {
    err.write(`Campaign ${created.id}: ${created.total.toLocaleString('en')} recipients, sending…\n`);
  }

  const view = await watchCampaign(client, created.id);
  if (view === 'interrupted') return exitCodes.interrupted;
  if (view.counts.failed > 0) {
    const page = await fetchFailedPage(client, created.id, { limit: 10 });
    err.write('Failed:\n');
    writeFailures(err, page.items, view.counts.failed);
  }
  return printCampaignSummary(view, values.json);
}

function parseSendArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      offer: { type: 'string' },
      csv: { type: 'string' },
      name: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      ...apiCommandOptions,
    },
    strict: true,
  });
}
