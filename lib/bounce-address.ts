import { timingSafeEqual } from 'node:crypto';
import { isId } from '../core/ids.ts';
import { bounceAddressTag as bounceTag } from './secrets.ts';

/**
 * The return path of one offer email (VERP): `<delegation id>-<tag>@<bounce domain>`, the tag
 * the first 20 hex digits (80 bits) of an HMAC-SHA256 of the id under the link secret. A
 * bounce to it names its delegation, and a made-up address is recognised without a lookup.
 * Lower-case hex only: some servers lower-case the local part of a return path.
 * docs/adr/0024-bounces-that-come-back-later.md.
 */
export function bounceAddress(secret: string, domain: string, delegationId: string): string {
  return `${delegationId}-${bounceTag(secret, delegationId)}@${domain}`;
}

/** The return path of a delegation's offer email: its bounce address, or none (MAIL_BOUNCE_DOMAIN unset). */
export function offerReturnPath(
  config: { linkSecret: string; mailBounceDomain: string | undefined },
  delegationId: string,
): string | undefined {
  return config.mailBounceDomain ? bounceAddress(config.linkSecret, config.mailBounceDomain, delegationId) : undefined;
}

export type BounceAddressReading =
  | { ok: true; delegationId: string }
  /** `foreign`: not the bounce domain; `forged`: on it, but not an address Mandate gave out. */
  | { ok: false; reason: 'foreign' | 'forged' };

/** Which delegation a bounce sent to `address` is about, if Mandate made that address. */
export function readBounceAddress(secret: string, domain: string, address: string): BounceAddressReading {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return { ok: false, reason: 'foreign' };
  const match = /^(dlg_[0-9a-f]{32})-([0-9a-f]{20})$/.exec(address.slice(0, at).toLowerCase());
  if (!match || !isId('delegation', match[1] as string)) return { ok: false, reason: 'forged' };
  const delegationId = match[1] as string;
  const expected = Buffer.from(bounceTag(secret, delegationId));
  const given = Buffer.from(match[2] as string);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  return { ok: true, delegationId };
}
