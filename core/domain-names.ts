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
