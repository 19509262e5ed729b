import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../lib/config.ts';

/** Docker does not run here: the compose file is kept right by reading it. */
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Record<string, unknown> & { environment?: Record<string, string>; command?: string[] }>;
};

describe('docker-compose.yml', () => {
  it('runs postgres, redis, a mail catcher, a one-shot migration, the api and the worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'mailpit', 'migrate', 'postgres', 'redis', 'worker']);
  });

  it('runs redis with noeviction and an append-only file', () => {
    const command = compose.services.redis?.command?.join(' ');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
  });

  it('has health checks on the services others wait for', () => {
    for (const name of ['postgres', 'redis', 'mailpit', 'api']) {
      expect(compose.services[name]?.healthcheck, name).toBeDefined();
    }
  });

  it('starts api and worker after the migration completes, with valid configuration', () => {
    for (const name of ['api', 'worker']) {
      const service = compose.services[name] as {
        depends_on: Record<string, { condition: string }>;
        environment: Record<string, string>;
      };
      expect(service.depends_on.migrate?.condition).toBe('service_completed_successfully');
      // Substitute the ${VAR:-default} forms the way compose would with nothing set.
      const env = Object.fromEntries(
        Object.entries(service.environment).map(([k, v]) => [
          k,
          String(v)
            .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
            .replace(/\$\{LINK_SECRET:\?[^}]*\}/, 'x'.repeat(48)),
        ]),
      );
      expect(configSchema.safeParse(env).success, name).toBe(true);
      expect(env.NODE_ENV).toBe('production');
      // Bound to 0.0.0.0, which only production (or ALLOW_DEV_MODE_ON_NETWORK) may serve on.
      expect(() => loadConfig(env, { servesHttp: true }), name).not.toThrow();
    }
    expect(compose.services.api?.environment?.HOST).toBe('0.0.0.0');
    expect(compose.services.api?.ports).toEqual(['3000:3000']);
  });

  it('lets the worker scale: no container name and no published ports', () => {
    expect(compose.services.worker?.container_name).toBeUndefined();
    expect(compose.services.worker?.ports).toBeUndefined();
    expect(compose.services.worker?.command).toEqual(['node', '--import', 'tsx', 'bin/worker.ts']);
  });
});
