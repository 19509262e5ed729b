import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Config } from '../lib/config.ts';
import type { App } from './env.ts';

export interface RunningServer {
  /** The port actually bound (useful with PORT=0). */
  port: number;
  url: string;
  /** Stops accepting connections and waits for open requests to finish. */
  close(): Promise<void>;
}

/** Serves `app` on HOST:PORT over plain HTTP (put TLS in front in production). */
export function startServer(
  app: App,
  config: Pick<Config, 'host' | 'port'>,
  limits: { headersTimeoutMs?: number; requestTimeoutMs?: number } = {},
): Promise<RunningServer> {
  const headersTimeout = limits.headersTimeoutMs ?? 10_000;
  const requestTimeout = limits.requestTimeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        port: config.port,
        hostname: config.host,
        // Slow clients must not hold sockets forever (headers within 10 s, the whole request
        // within 60 s); the check runs often enough for those limits to bite on time.
        serverOptions: {
          headersTimeout: headersTimeout,
          requestTimeout: requestTimeout,
          connectionsCheckingInterval: Math.min(1000, headersTimeout),
        },
      },
      (info: AddressInfo) => {
        resolve({
          port: info.port,
          url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Idle keep-alive sockets would otherwise hold close() open.
              if ('closeIdleConnections' in server) server.closeIdleConnections();
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
