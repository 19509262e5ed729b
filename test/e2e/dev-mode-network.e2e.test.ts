import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTsx } from '../helpers/processes.ts';

/**
 * The real entry points refuse to serve development mode on an address other hosts can
 * reach (docs/adr/0015): they stop before connecting to anything, with the reason on
 * stderr and exit status 2.
 */
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mandate-data-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('development mode bound to the network', () => {
  for (const entry of ['bin/api.ts', 'start.ts']) {
    it(`${entry} refuses HOST=0.0.0.0 without ALLOW_DEV_MODE_ON_NETWORK`, async () => {
      const service = startTsx(entry, {
        NODE_ENV: 'development',
        HOST: '0.0.0.0',
        ALLOW_DEV_MODE_ON_NETWORK: '',
        LINK_SECRET: '',
        DATA_DIR: dataDir,
        // Nothing listens there: the process must stop before trying.
        DATABASE_URL: 'postgres://postgres@127.0.0.1:9/never',
        LOG_PRETTY: 'false',
      });
      // A process that does not refuse would serve on: it is stopped after 20 s.
      const exited = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 20_000);
        service.child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      await service.stop('SIGKILL');
      expect(exited, service.output()).toBe(2);
      expect(service.output()).toContain('HOST: development mode listens on this machine only');
      expect(service.output()).toContain('ALLOW_DEV_MODE_ON_NETWORK=true');
      expect(service.output()).not.toContain('listening');
      // Refused before anything was kept.
      expect(await readdir(dataDir)).toEqual([]);
    });
  }
});
