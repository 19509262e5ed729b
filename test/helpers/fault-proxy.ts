import net from 'node:net';

/**
 * How the proxy treats the connection between Mandate and a dependency:
 * - `pass`: forwards both ways.
 * - `refuse`: resets every connection, open or new (a server gone, a port closed).
 * - `reset`: resets the connections open now, then passes again (a restart, a NAT flush).
 * - `blackhole`: a partition: nothing crosses either way, new connections are accepted and
 *   left waiting; held bytes cross when it heals, as TCP's retransmits would deliver them.
 * - `slow`: every chunk waits `delayMs` before it crosses.
 * - `one-way`: requests reach the server, nothing comes back (held, as in a blackhole).
 * - `pg-starting-up`: resets the connections open now, then answers every new one as a
 *   PostgreSQL server that is restarting does (FATAL 57P03): each query fails at once.
 */
export type FaultMode = 'pass' | 'refuse' | 'reset' | 'blackhole' | 'slow' | 'one-way' | 'pg-starting-up';

/** SSLRequest's code in the PostgreSQL protocol; the answer `N` declines it. */
const PG_SSL_REQUEST = 80877103;

/** A PostgreSQL ErrorResponse: FATAL 57P03, "the database system is starting up". */
function pgStartingUp(): Buffer {
  const fields = Buffer.from('SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0', 'latin1');
  const header = Buffer.alloc(5);
  header.write('E', 0, 'latin1');
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

export interface FaultProxy {
  port: number;
  /** The same URL with the proxy's port in place of the target's. */
  through(url: string): string;
  set(mode: FaultMode, options?: { delayMs?: number }): void;
  /** Connections accepted so far (a reconnecting client shows here). */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Bytes held while the path is cut, per direction. */
  held: { up: Buffer[]; down: Buffer[] };
}

/** A TCP proxy on loopback in front of `to` (a dependency's URL, or host and port), whose faults the test sets. */
const defaultPorts: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'smtp:': 25 };

/** The server a dependency's URL names (its port, or the scheme's default). */
function targetOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) || (defaultPorts[u.protocol] ?? 0) };
}

export async function startFaultProxy(to: string | { host: string; port: number }): Promise<FaultProxy> {
  const target = typeof to === 'string' ? targetOf(to) : to;
  let mode: FaultMode = 'pass';
  let delayMs = 0;
  let accepted = 0;
  const pairs = new Set<Pair>();

  const cutUp = () => mode === 'blackhole';
  const cutDown = () => mode === 'blackhole' || mode === 'one-way';
  const send = (to: net.Socket | null, chunk: Buffer) => {
    if (!to || to.destroyed) return;
    if (mode === 'slow') setTimeout(() => to.destroyed || to.write(chunk), delayMs);
    else to.write(chunk);
  };
  const connectUpstream = (pair: Pair) => {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => (cutDown() ? pair.held.down.push(chunk) : send(pair.client, chunk)));
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => {
      pair.client.destroy();
      pairs.delete(pair);
    });
    for (const chunk of pair.held.up.splice(0)) upstream.write(chunk);
  };

  const server = net.createServer((client) => {
    accepted++;
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'pg-starting-up') {
      client.on('error', () => {});
      client.on('data', (chunk: Buffer) => {
        if (chunk.length === 8 && chunk.readInt32BE(4) === PG_SSL_REQUEST) client.write('N');
        else client.end(pgStartingUp());
      });
      return;
    }
    const pair: Pair = { client, upstream: null, held: { up: [], down: [] } };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (cutUp() || !pair.upstream) pair.held.up.push(chunk);
      else send(pair.upstream, chunk);
    });
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (!cutUp()) connectUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const heal = () => {
    for (const pair of pairs) {
      if (!pair.upstream) connectUpstream(pair);
      else if (!cutUp()) for (const chunk of pair.held.up.splice(0)) pair.upstream.write(chunk);
      if (!cutDown()) for (const chunk of pair.held.down.splice(0)) pair.client.write(chunk);
    }
  };

  return {
    port,
    through(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
    },
    set(next, options = {}) {
      delayMs = options.delayMs ?? delayMs;
      if (next === 'reset' || next === 'refuse' || next === 'pg-starting-up') {
        for (const pair of [...pairs]) {
          pair.client.resetAndDestroy();
          pair.upstream?.destroy();
        }
        pairs.clear();
        mode = next === 'reset' ? 'pass' : next;
        return;
      }
      mode = next;
      heal();
    },
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
