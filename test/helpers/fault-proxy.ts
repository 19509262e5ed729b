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
 */
export type FaultMode = 'pass' | 'refuse' | 'reset' | 'blackhole' | 'slow' | 'one-way';

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

/** A TCP proxy on loopback in front of `target`, whose faults the test sets. */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
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
      if (next === 'reset' || next === 'refuse') {
        for (const pair of [...pairs]) {
          pair.client.resetAndDestroy();
          pair.upstream?.destroy();
        }
        pairs.clear();
        mode = next === 'reset' ? 'pass' : 'refuse';
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
