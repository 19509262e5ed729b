import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { isLoopbackAddress } from '../core/client-address.ts';
import type { AppEnv } from './env.ts';

const localHostNames = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether the request comes straight from this machine: a loopback socket, and no
 * forwarding header — a reverse proxy on the same host connects from loopback too, on
 * behalf of anyone. TRUST_PROXY changes nothing here: what a proxy says of its client is
 * good enough to count requests by, not to open what only this machine may see. In-process
 * requests without a socket are not local. Used by /metrics and the development mailbox.
 */
export function isLocalClient(c: Context<AppEnv>): boolean {
  if (c.req.header('x-forwarded-for') || c.req.header('forwarded') || c.req.header('x-real-ip')) return false;
  // Addressed to this machine by name too: a web page whose own name was rebound to
  // 127.0.0.1 (DNS rebinding) connects from loopback, but its Host header is its own name.
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  if (!localHostNames.has(host.replace(/:\d+$/, '').toLowerCase())) return false;
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    address = undefined;
  }
  return isLoopbackAddress(address);
}
