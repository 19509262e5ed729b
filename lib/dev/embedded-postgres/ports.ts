import { createConnection, createServer } from 'node:net';
import { EmbeddedPostgresError } from './common.ts';

/** True when something accepts a TCP connection at host:port within `timeoutMs`. */
export function answersAt(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (answers: boolean) => {
      socket.destroy();
      resolve(answers);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

/** `port` if it is free on 127.0.0.1 (and not 0), else one the system picks. */
export async function pickPort(port: number): Promise<number> {
  const listen = (p: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(p, '127.0.0.1', () => {
        const bound = (server.address() as { port: number }).port;
        server.close(() => resolve(bound));
      });
    });
  const preferred = port === 0 ? undefined : await listen(port);
  const chosen = preferred ?? (await listen(0));
  if (chosen === undefined) throw new EmbeddedPostgresError('no free port on 127.0.0.1 for the embedded PostgreSQL');
  return chosen;
}
