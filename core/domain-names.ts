import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

export const VERIFICATION_PREFIX = 'mandate-verification=';

/**
 * A domain name as Mandate stores it: lower-case ASCII, internationalized names in
 * punycode. Refuses IP addresses, single labels, names that are only a public suffix
 * (`com`, `co.uk`: no organization owns them), and anything that is not a host name.
 */
export function normalizeDomainName(raw: string): { name: string } | { reason: string } {
  const trimmed = raw.trim().replace(/\.$/, '');
  if (trimmed === '' || trimmed.length > 253) return { reason: 'must be a domain name of at most 253 characters' };
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (!ascii) return { reason: 'is not a valid domain name' };
  const labels = ascii.split('.');
  const labelOk = (l: string) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(l);
  if (labels.length < 2 || !labels.every(labelOk)) return { reason: 'is not a valid domain name' };
  const info = parse(ascii, { allowPrivateDomains: true });
  if (info.isIp || /^[0-9]+$/.test(labels.at(-1) ?? '')) return { reason: 'must be a domain name, not an IP address' };
  if (!info.domain || !info.publicSuffix) return { reason: 'is a public suffix, which no organization can own' };
  return { name: ascii };
}

/** True when `name` is `root` or a subdomain of it (both normalized). */
export function isSameOrSubdomain(name: string, root: string): boolean {
  return name === root || name.endsWith(`.${root}`);
}

/** Whether any TXT record (its strings joined, as DNS splits long values) carries the token. */
export function txtRecordsMatch(records: string[][], token: string): boolean {
  const expected = `${VERIFICATION_PREFIX}${token}`;
  return records.some((chunks) => chunks.join('').trim() === expected);
}

/** Longest pause between two looks for a verification record. */
export const MAX_DOMAIN_CHECK_PAUSE_MS = 30 * 60_000;

/**
 * The pause before the next look for a verification record after `attemptsMade` looks:
 * `retryMs`, doubling each time, at most 30 minutes (the operations queue's `dns` backoff).
 */
export function domainCheckPauseMs(retryMs: number, attemptsMade: number): number {
  return Math.min(retryMs * 2 ** Math.max(0, attemptsMade - 1), MAX_DOMAIN_CHECK_PAUSE_MS);
}

/** "in a few seconds", "in about 4 minutes": when the next look comes, for the waiting reason. */
export function inAbout(ms: number): string {
  if (ms < 60_000) return 'in a few seconds';
  const minutes = Math.round(ms / 60_000);
  return `in about ${minutes} minute${minutes === 1 ? '' : 's'}`;
}
