import { parse } from 'csv-parse/sync';
import { AppError } from './errors.ts';
import { MAX_RECIPIENTS, type RawRecipient } from './recipients.ts';

const allowedColumns = ['email', 'name', 'company'] as const;
/** Longest line accepted; guards against a wrong delimiter turning a file into one huge field. */
const MAX_LINE = 16 * 1024;

/** A recipients file as UTF-8 text; anything else (a Latin-1 or UTF-16 export) is refused, not garbled. */
export function decodeRecipientsCsv(bytes: ArrayBuffer | Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('MALFORMED_CSV', 'The CSV is not UTF-8 text; export it as "CSV UTF-8"');
  }
}

/** What a header read as one column says when the file was separated by something else. */
const otherSeparators: [string, string][] = [
  [';', 'semicolons'],
  ['\t', 'tabs'],
  ['|', 'vertical bars'],
];

function checkHeader(header: string[]): string[] {
  const columns = header.map((h) => h.trim().toLowerCase());
  const separator = columns.length === 1 ? otherSeparators.find(([c]) => columns[0]?.includes(c)) : undefined;
  if (separator) {
    throw new AppError('VALIDATION_FAILED', `The CSV is separated by ${separator[1]}: use commas`, {
      issues: [
        {
          path: 'header',
          message: `the columns are separated by ${separator[1]}, not commas; save the file as "CSV UTF-8 (comma delimited)"`,
        },
      ],
    });
  }
  const unknown = columns.filter((c) => !(allowedColumns as readonly string[]).includes(c));
  const repeated = columns.filter((c, i) => columns.indexOf(c) !== i);
  const issues = [
    ...(columns.includes('email') ? [] : [{ path: 'header', message: 'the header must have an email column' }]),
    ...unknown.map((c) => ({
      path: 'header',
      message: `unknown column "${c.slice(0, 50)}"; allowed: email, name, company`,
    })),
    ...repeated.map((c) => ({ path: 'header', message: `column "${c}" appears twice` })),
  ];
  if (issues.length > 0) throw new AppError('VALIDATION_FAILED', 'The CSV header is not valid', { issues });
  return columns;
}

/**
 * Reads recipients from CSV text with a header row of `email,name,company` (name and
 * company optional, any order, case-insensitive). Blank lines are skipped. Throws
 * MALFORMED_CSV for text that is not CSV, VALIDATION_FAILED for a bad header, and
 * TOO_MANY_RECIPIENTS past the limit without reading the rest of the file.
 */
export function parseRecipientsCsv(text: string): RawRecipient[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      bom: true,
      columns: checkHeader,
      skip_empty_lines: true,
      // Spreadsheets often drop trailing empty cells; a short row means blank name/company.
      relax_column_count_less: true,
      trim: true,
      max_record_size: MAX_LINE,
      // Read one record past the limit: enough to know the file is too long.
      to: MAX_RECIPIENTS + 1,
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new AppError('MALFORMED_CSV', `The CSV could not be read: ${message.slice(0, 300)}`);
  }
  if (records.length > MAX_RECIPIENTS) {
    throw new AppError('TOO_MANY_RECIPIENTS', `A campaign takes at most ${MAX_RECIPIENTS} recipients`, {
      details: { max: MAX_RECIPIENTS },
    });
  }
  return records.map((r) => ({ email: r.email, name: r.name, company: r.company }));
}
