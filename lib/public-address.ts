import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses that are not on the public internet: this machine, private networks, link-local
 * (cloud metadata services live there), carrier-grade NAT, benchmarking, documentation,
 * multicast and reserved ranges. A server that fetches an address a customer typed (an identity
 * provider's) must not be steered to these.
 */
const notPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  notPublic.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['::', 96], // IPv4-compatible (deprecated): an IPv4 address in disguise
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT)
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48], // local-use NAT64: reaches IPv4 addresses of the local network
  ['2001::', 32], // Teredo: tunnels to an embedded IPv4 address
  ['2002::', 16], // 6to4: likewise
  ['fec0::', 10], // site-local (deprecated)
  ['2001:db8::', 32],
] as const) {
  notPublic.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address (v4 or v6, an IPv4-mapped v6 judged as its v4) is on the public internet. */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip);
  if (family === 0) return false;
  return !notPublic.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Resolves a host name and says why it may not be fetched: null when every address it
 * resolves to is public; otherwise a reason for a person. (A name can resolve differently
 * later — a check at save time, not a guarantee at every fetch.)
 */
export async function nonPublicHostReason(hostname: string): Promise<string | null> {
  const host = hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return `${host} does not resolve`;
  }
  const inside = addresses.find((a) => !isPublicAddress(a));
  return inside ? `${host} is not on the public internet (${inside})` : null;
}
