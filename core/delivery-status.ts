/**
 * The `message/delivery-status` part of a delivery status notification (RFC 3464 §2): one
 * block of per-message fields, then one block per recipient, blocks separated by blank
 * lines, each a run of header-style `Name: value` fields (folded lines continue a value).
 * No kept npm package parses this part alone (the bounce parsers on npm guess from the
 * human-readable text); the MIME around it is mailparser's job (services/campaigns/bounces.ts).
 * Pure: text in, facts out.
 */

/** What one per-recipient block says, the fields Mandate reads. */
export interface RecipientStatus {
  /** `Final-Recipient`'s address, without its type (`rfc822;`). */
  finalRecipient: string | null;
  /** `Original-Recipient`'s address, without its type: the address as the sender gave it, if reported. */
  originalRecipient: string | null;
  /** `Action`: failed, delayed, delivered, relayed or expanded (lower-cased). */
  action: string | null;
  /** `Status`: the enhanced status code, e.g. `5.1.1`. */
  status: string;
  /** `Diagnostic-Code` without its type (`smtp;`): the reply of the server that refused it. */
  diagnostic: string | null;
  /** `Remote-MTA` without its type: the server that refused it. */
  remoteMta: string | null;
}

export interface DeliveryStatus {
  /** `Reporting-MTA` without its type: the server that wrote the report. */
  reportingMta: string | null;
  recipients: RecipientStatus[];
}

/** The reports Mandate keeps (db/schema/delegation-bounces.ts): a permanent failure, a delay. */
export const keptBounceKinds = ['permanent', 'delayed'] as const;
export type KeptBounceKind = (typeof keptBounceKinds)[number];
/** What a report means for Mandate: one it keeps, or nothing to do (delivered, relayed…). */
export type BounceKind = KeptBounceKind | 'other';

/** Longest diagnostic kept, as for a refusal at send time (core/smtp-outcome.ts). */
export const MAX_DIAGNOSTIC_CHARS = 1000;
/** Longest other field kept: a host name or an address is far shorter. */
export const MAX_FIELD_CHARS = 255;

// C0 and C1 controls (a tab or line break becomes a space first), DEL, and the bidi marks,
// embeddings, overrides and isolates that make shown text read other than it is stored.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const unsafeChars = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A value written by someone else's server, made safe to store and show: whitespace runs
 * (tabs, line breaks) one space, control and bidi characters (NUL too: PostgreSQL's text
 * refuses it) removed, cut to `max` characters. Null when nothing is left.
 */
export function cleanReportText(value: string | null | undefined, max: number): string | null {
  if (value == null) return null;
  const clean = value
    .replace(/[\t\r\n]+/g, ' ')
    .replace(unsafeChars, '')
    .trim()
    .slice(0, max)
    .trim();
  return clean === '' ? null : clean;
}

/** Largest part read: a real report is a few hundred bytes per recipient. */
const MAX_PART_CHARS = 64 * 1024;
const statusPattern = /^([245])\.\d{1,3}\.\d{1,3}$/;

/** Splits one block into fields (lower-cased names; a repeated name keeps its first value). */
function fields(block: string[]): Map<string, string> | null {
  const out = new Map<string, string>();
  let name: string | null = null;
  for (const line of block) {
    if (/^[ \t]/.test(line)) {
      if (name === null) return null; // a continuation with nothing to continue
      out.set(name, `${out.get(name)} ${line.trim()}`.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9-]+$/.test(name)) return null;
    if (!out.has(name)) out.set(name, line.slice(colon + 1).trim());
    else name = `${name}\u0000ignored`;
  }
  return out;
}

/** `rfc822; pat@example.com` → `pat@example.com`; a value without a type is kept whole. */
function withoutType(value: string | undefined): string | null {
  if (value === undefined) return null;
  const semicolon = value.indexOf(';');
  const rest = (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim();
  return rest === '' ? null : rest;
}

/** A recipient field's address, lower-cased, without its type or angle brackets. */
function addressOf(value: string | undefined): string | null {
  const address = withoutType(value)
    ?.replace(/^<(.*)>$/, '$1')
    .trim()
    .toLowerCase();
  return address ? address : null;
}

/**
 * Parses the text of a `message/delivery-status` part. Null when it is not one: no
 * per-recipient block, a block that is not fields, or a recipient without a valid `Status`.
 */
export function parseDeliveryStatus(text: string): DeliveryStatus | null {
  if (text.length > MAX_PART_CHARS) return null;
  const blocks: string[][] = [];
  let current: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (current.length > 0) blocks.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) blocks.push(current);
  const [first, ...rest] = blocks.map(fields);
  if (!first || rest.length === 0 || rest.some((b) => b === null)) return null;
  const recipients: RecipientStatus[] = [];
  for (const block of rest as Map<string, string>[]) {
    const status = /^\s*(\d\.\d{1,3}\.\d{1,3})/.exec(block.get('status') ?? '')?.[1];
    if (!status || !statusPattern.test(status)) return null;
    recipients.push({
      finalRecipient: addressOf(block.get('final-recipient')),
      originalRecipient: addressOf(block.get('original-recipient')),
      action: cleanReportText(block.get('action'), MAX_FIELD_CHARS)?.toLowerCase() ?? null,
      status,
      diagnostic: cleanReportText(withoutType(block.get('diagnostic-code')), MAX_DIAGNOSTIC_CHARS),
      remoteMta: cleanReportText(withoutType(block.get('remote-mta')), MAX_FIELD_CHARS),
    });
  }
  return { reportingMta: cleanReportText(withoutType(first.get('reporting-mta')), MAX_FIELD_CHARS), recipients };
}

/** What one recipient's status means: 5.x.x permanent, 4.x.x a delay, 2.x.x nothing to do. */
export function bounceKind(recipient: Pick<RecipientStatus, 'status'>): BounceKind {
  if (recipient.status.startsWith('5.')) return 'permanent';
  if (recipient.status.startsWith('4.')) return 'delayed';
  return 'other';
}

/**
 * Whether a recipient block is about `email` (the address the message was sent to): its
 * Final-Recipient or Original-Recipient is that address, case aside. A block about another
 * address — the target of an alias or a forward — says nothing about ours.
 */
export function namesRecipient(
  recipient: Pick<RecipientStatus, 'finalRecipient' | 'originalRecipient'>,
  email: string | null,
): boolean {
  if (email === null) return false;
  const wanted = email.trim().toLowerCase();
  return recipient.finalRecipient === wanted || recipient.originalRecipient === wanted;
}

/**
 * Whether a recipient block proves the message failed for good: Action `failed` with a
 * 5.x.x status. A 5.x.x beside `delivered`, `relayed` or `expanded` does not.
 */
export function provesFailure(recipient: Pick<RecipientStatus, 'action' | 'status'>): boolean {
  return recipient.action === 'failed' && bounceKind(recipient) === 'permanent';
}

/**
 * The recipient block of a report that counts for one message sent to `email` (a return
 * path per send, so a report is about that message): among the blocks naming `email`, else
 * among all, the most serious one — a proven failure before another 5.x.x before a delay
 * before anything else. `aboutRecipient` says which: only a block naming `email` may fail
 * the delegation.
 */
export function decisiveRecipient(
  report: DeliveryStatus,
  email: string | null,
): { recipient: RecipientStatus; aboutRecipient: boolean } | undefined {
  const rank = (r: RecipientStatus) => (provesFailure(r) ? 0 : { permanent: 1, delayed: 2, other: 3 }[bounceKind(r)]);
  const named = report.recipients.filter((r) => namesRecipient(r, email));
  const recipient = [...(named.length > 0 ? named : report.recipients)].sort((a, b) => rank(a) - rank(b))[0];
  return recipient && { recipient, aboutRecipient: named.length > 0 };
}
