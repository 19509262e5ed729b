import { z } from 'zod';
import { hasControlChars } from './text.ts';

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
  email: string;
  reason: string;
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
    if ('reason' in result) rejected.push({ row: index + 1, email: row.email ?? '', reason: result.reason });
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
