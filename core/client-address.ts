import { isIP } from 'node:net';

/**
 * The key a client's address counts under in the rate limits: an IPv4 address as it is
 * (also when written IPv4-mapped, `::ffff:a.b.c.d`); an IPv6 address as its /64, the block
 * one client typically holds — read from the expanded address, so the compressed forms of
 * one /64 (`2001:db8::a:b:c:d`, `2001:db8:0:0:…`) share one key; anything that is not an
 * address (a forwarded header's garbage) as `unknown`.
 */
export function rateLimitAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  const bare = address.trim().replace(/%.*$/, ''); // a zone (`fe80::1%eth0`) is not part of the address
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped && isIP(mapped[1] as string) === 4) return mapped[1] as string;
  const kind = isIP(bare);
  if (kind === 4) return bare;
  if (kind !== 6) return 'unknown';
  return `${expandIpv6(bare).slice(0, 4).join(':')}::/64`;
}

/**
 * Whether an address is this machine's loopback: 127.0.0.0/8 (also IPv4-mapped,
 * `::ffff:127.x.y.z`) or `::1`, in any spelling. Anything else — a LAN address, the
 * unspecified `0.0.0.0` and `::`, a name, garbage — is not.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.trim().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  const v4 = mapped ? (mapped[1] as string) : bare;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  if (isIP(bare) !== 6) return false;
  const groups = expandIpv6(bare);
  return groups.slice(0, 7).every((g) => g === '0') && groups[7] === '1';
}

/** The eight 16-bit groups of a valid IPv6 address, in lowercase hex without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  const v4Tail = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}
