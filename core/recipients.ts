import { z } from 'zod';
import { AppError, type FieldIssue } from './errors.ts';
import { hasControlChars, sanitizeEcho } from './text.ts';

/** Most recipients one campaign may have. */
export const MAX_RECIPIENTS = 100_000;
const MAX_NAME = 200;

/** A recipient as it arrives (a JSON item or a CSV row), before validation. */
export interface RawRecipient {
  email?: string | undefined;
  name?: string | undefined;
  company?: string | undefined;
}

export interface Recipient {
  email: string;
  name: string | null;
  company: string | null;
}

export interface RejectedRecipient {
  /** 1-based position in the submitted list (for CSV: the data row, header not counted). */
  row: number;
  /** The address as submitted, made safe to store and echo (and cut short). */
  email: string;
  reason: string;
}

const recipientFields = new Set(['email', 'name', 'company']);
const MAX_FIELD = 1000;
const MAX_ISSUES = 50;

/**
 * Checks the shape of recipients sent as JSON — objects with a string `email` and
 * optional string-or-null `name` and `company`, nothing else — in one loop, so a list
 * of 100,000 broken items costs one pass and yields at most 50 issues (a schema
 * validator would build 100,000 errors). Throws TOO_MANY_RECIPIENTS past the limit and
 * VALIDATION_FAILED for a wrong shape; address problems are left to screenRecipients.
 */
export function parseRecipientItems(items: readonly unknown[]): RawRecipient[] {
  if (items.length > MAX_RECIPIENTS) {
    throw new AppError('TOO_MANY_RECIPIENTS', `A campaign takes at most ${MAX_RECIPIENTS} recipients`, {
      details: { max: MAX_RECIPIENTS, received: items.length },
    });
  }
  const issues: FieldIssue[] = [];
  const rows: RawRecipient[] = [];
  const fieldIssue = (path: string, message: string) => {
    if (issues.length < MAX_ISSUES) issues.push({ path, message });
  };
  items.forEach((item, i) => {
    const path = `recipients/${i}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      fieldIssue(path, 'must be an object');
      return;
    }
    const record = item as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!recipientFields.has(key)) fieldIssue(`${path}/${sanitizeEcho(key, 50)}`, 'unknown field');
    }
    const text = (key: string, required: boolean): string | undefined => {
      const value = record[key];
      if (value === undefined || value === null) {
        if (required) fieldIssue(`${path}/${key}`, 'is required');
        return undefined;
      }
      if (typeof value !== 'string') return void fieldIssue(`${path}/${key}`, 'must be a string');
      if (value.length > MAX_FIELD) return void fieldIssue(`${path}/${key}`, `must be at most ${MAX_FIELD} characters`);
      return value;
    };
    rows.push({ email: text('email', true), name: text('name', false), company: text('company', false) });
  });
  if (issues.length > 0) throw new AppError('VALIDATION_FAILED', 'Some recipients are not well-formed', { issues });
  return rows;
}

const emailSchema = z.email();

/**
 * Normalizes an address for sending and comparison: trimmed, domain lower-cased.
 * Returns a reason instead when the address is not one we will send to.
 */
export function normalizeEmail(raw: string): { email: string } | { reason: string } {
  const value = raw.trim();
  if (value === '') return { reason: 'email is missing' };
  if (value.length > 254) return { reason: 'email is longer than 254 characters' };
  if (hasControlChars(value)) return { reason: 'email contains control characters' };
  const at = value.lastIndexOf('@');
  if (at < 1 || at > 64) return { reason: 'email is not a valid address' };
  const email = `${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}`;
  if (!emailSchema.safeParse(email).success) return { reason: 'email is not a valid address' };
  return { email };
}

function optionalText(raw: string | undefined, field: string): { value: string | null } | { reason: string } {
  const value = raw?.trim() ?? '';
  if (value === '') return { value: null };
  if (value.length > MAX_NAME) return { reason: `${field} is longer than ${MAX_NAME} characters` };
  if (hasControlChars(value)) return { reason: `${field} contains control characters` };
  return { value };
}

/**
 * Splits a submitted list into recipients to send to and rows to report back.
 * Invalid addresses and repeats of an address already in the list (compared without
 * regard to case) are rejected; the first occurrence wins.
 */
export function screenRecipients(rows: readonly RawRecipient[]): {
  accepted: Recipient[];
  rejected: RejectedRecipient[];
} {
  const accepted: Recipient[] = [];
  const rejected: RejectedRecipient[] = [];
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const result = checkRecipient(row, seen);
    if ('reason' in result)
      rejected.push({ row: index + 1, email: sanitizeEcho(row.email ?? ''), reason: result.reason });
    else {
      seen.add(result.email.toLowerCase());
      accepted.push(result);
    }
  });
  return { accepted, rejected };
}

function checkRecipient(row: RawRecipient, seen: ReadonlySet<string>): Recipient | { reason: string } {
  const email = normalizeEmail(row.email ?? '');
  if ('reason' in email) return email;
  if (seen.has(email.email.toLowerCase())) return { reason: 'duplicate of an earlier recipient in this campaign' };
  const name = optionalText(row.name, 'name');
  if ('reason' in name) return name;
  const company = optionalText(row.company, 'company');
  if ('reason' in company) return company;
  return { email: email.email, name: name.value, company: company.value };
}
