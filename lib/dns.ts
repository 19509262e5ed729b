import { Resolver } from 'node:dns/promises';

export type TxtLookup =
  /** The records at the name (empty when it has none, or does not exist). */
  | { ok: true; records: string[][] }
  /** The lookup itself failed (server unreachable, timeout): worth another try. */
  | { ok: false; error: string };

const absent = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * TXT lookups through the configured servers (DNS_SERVERS) or the system's. A name
 * without records is an answer, not an error: verification retries it on its own terms.
 */
export function createTxtLookup(servers: string[], timeoutMs = 5000): (name: string) => Promise<TxtLookup> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  return async (name) => {
    try {
      return { ok: true, records: await resolver.resolveTxt(name) };
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (absent.has(code)) return { ok: true, records: [] };
      return { ok: false, error: `${code || 'DNS error'}: ${(error as Error).message}` };
    }
  };
}
