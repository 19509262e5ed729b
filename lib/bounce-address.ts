import { timingSafeEqual } from 'node:crypto';
import { isId } from '../core/ids.ts';
import { bounceAddressTag as bounceTag } from './secrets.ts';

/**
 * The return path of one send of an offer email (VERP):
 * `<delegation id>.<attempt>-<tag>@<bounce domain>`, the attempt the delegation's
 * `send_attempts` as that send claimed it, the tag the first 20 hex digits (80 bits) of an
 * HMAC-SHA256 of id and attempt under the link secret. A bounce to it names its delegation
 * and the send it is about — a report of an earlier send (a late one, or a replay by anyone
 * who saw that address) does not count for a resend — and a made-up address is recognised
 * without a lookup. Lower-case hex only: some servers lower-case the local part of a return
 * path. docs/adr/0024-bounces-that-come-back-later.md.
 */
export function bounceAddress(secret: string, domain: string, delegationId: string, attempt: number): string {
  return `${delegationId}.${attempt}-${bounceTag(secret, delegationId, attempt)}@${domain}`;
}

/** The return path of one send of a delegation's offer email: its bounce address, or none (MAIL_BOUNCE_DOMAIN unset). */
export function offerReturnPath(
  config: { linkSecret: string; mailBounceDomain: string | undefined },
  delegationId: string,
  attempt: number,
): string | undefined {
  return config.mailBounceDomain
    ? bounceAddress(config.linkSecret, config.mailBounceDomain, delegationId, attempt)
    : undefined;
}

export type BounceAddressReading =
  | { ok: true; delegationId: string; attempt: number }
  /** `foreign`: not the bounce domain; `forged`: on it, but not an address Mandate gave out. */
  | { ok: false; reason: 'foreign' | 'forged' };

/** Which delegation, and which send of its offer email, a bounce sent to `address` is about, if Mandate made that address. */
export function readBounceAddress(secret: string, domain: string, address: string): BounceAddressReading {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return { ok: false, reason: 'foreign' };
  // The attempt without leading zeros, so one send has one address (its tag is over the number).
  const match = /^(dlg_[0-9a-f]{32})\.([1-9][0-9]{0,8})-([0-9a-f]{20})$/.exec(address.slice(0, at).toLowerCase());
  if (!match || !isId('delegation', match[1] as string)) return { ok: false, reason: 'forged' };
  const delegationId = match[1] as string;
  const attempt = Number(match[2]);
  const expected = Buffer.from(bounceTag(secret, delegationId, attempt));
  const given = Buffer.from(match[3] as string);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  return { ok: true, delegationId, attempt };
}
