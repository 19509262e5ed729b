import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.ts';

describe('loadConfig', () => {
  it('has local defaults for everything', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/mandate',
      redisUrl: 'redis://127.0.0.1:6379',
      embeddedPostgres: 'auto',
      embeddedPostgresDir: '.data/pg',
      embeddedPostgresPort: 54329,
      queuePrefix: 'mandate',
      sendRatePerSecond: 100,
      linkSecretIsDefault: true,
    });
    // No SMTP server by default: mail goes to the development mailbox.
    expect(config.smtpUrl).toBeUndefined();
  });

  it('lets a worker have twice its SMTP pool of emails delivered but unrecorded by default, or what it is told', () => {
    expect(loadConfig({}).mailUnconfirmedMax).toBe(10);
    expect(loadConfig({ SMTP_POOL_SIZE: '8' }).mailUnconfirmedMax).toBe(16);
    expect(loadConfig({ SMTP_POOL_SIZE: '8', MAIL_UNCONFIRMED_MAX: '1' }).mailUnconfirmedMax).toBe(1);
  });

  it('logs JSON lines, one per record, when stderr is not a terminal, in development too; LOG_PRETTY forces', () => {
    expect(process.stderr.isTTY).not.toBe(true); // the test runner's stderr is a pipe
    expect(loadConfig({ NODE_ENV: 'development' }).logPretty).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development', LOG_PRETTY: 'yes' }).logPretty).toBe(true);
  });

  it('bounds browser sessions: 30 minutes idle and 12 hours in all by default', () => {
    expect(loadConfig({})).toMatchObject({ sessionIdleMinutes: 30, sessionMaxHours: 12 });
    expect(loadConfig({ SESSION_IDLE_MINUTES: '5', SESSION_MAX_HOURS: '1' })).toMatchObject({
      sessionIdleMinutes: 5,
      sessionMaxHours: 1,
    });
    expect(() => loadConfig({ SESSION_IDLE_MINUTES: '0' })).toThrow(/SESSION_IDLE_MINUTES/);
    expect(() => loadConfig({ SESSION_MAX_HOURS: 'half a day' })).toThrow(/SESSION_MAX_HOURS/);
  });

  it('bounds every pool by a statement and a lock timeout, generous by default; 0 turns one off', () => {
    expect(loadConfig({}).databaseTimeouts).toEqual({
      api: { statementMs: 15_000, lockMs: 5_000, idleInTransactionMs: 10_000, replyMs: 20_000 },
      workers: { statementMs: 60_000, lockMs: 10_000 },
      migrations: { statementMs: 0, lockMs: 5_000 },
    });
    const config = loadConfig({
      DATABASE_API_STATEMENT_TIMEOUT_MS: '2000',
      DATABASE_API_LOCK_TIMEOUT_MS: '0',
      DATABASE_WORKER_STATEMENT_TIMEOUT_MS: '120000',
      DATABASE_WORKER_LOCK_TIMEOUT_MS: '3000',
      DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS: '600000',
      DATABASE_MIGRATION_LOCK_TIMEOUT_MS: '1000',
    });
    expect(config.databaseTimeouts).toEqual({
      api: { statementMs: 2000, lockMs: 0, idleInTransactionMs: 10_000, replyMs: 7000 },
      workers: { statementMs: 120_000, lockMs: 3000 },
      migrations: { statementMs: 600_000, lockMs: 1000 },
    });
    expect(loadConfig({ DATABASE_API_REPLY_TIMEOUT_MS: '9000' }).databaseTimeouts.api.replyMs).toBe(9000);
    expect(loadConfig({ DATABASE_API_STATEMENT_TIMEOUT_MS: '0' }).databaseTimeouts.api.replyMs).toBe(0);
    expect(() => loadConfig({ DATABASE_API_LOCK_TIMEOUT_MS: '-1' })).toThrow(/DATABASE_API_LOCK_TIMEOUT_MS/);
    expect(() => loadConfig({ DATABASE_WORKER_STATEMENT_TIMEOUT_MS: '1m' })).toThrow(
      /DATABASE_WORKER_STATEMENT_TIMEOUT_MS/,
    );
  });

  it('bounds what a request waits on: a new connection, a Redis command, the whole request', () => {
    expect(loadConfig({})).toMatchObject({
      databaseConnectTimeoutMs: 5000,
      redisApiCommandTimeoutMs: 2000,
      requestTimeoutMs: 30_000,
    });
    expect(
      loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: '1000', REDIS_API_COMMAND_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '0' }),
    ).toMatchObject({ databaseConnectTimeoutMs: 1000, redisApiCommandTimeoutMs: 500, requestTimeoutMs: 0 });
    expect(() => loadConfig({ REDIS_API_COMMAND_TIMEOUT_MS: '0' })).toThrow(/REDIS_API_COMMAND_TIMEOUT_MS/);
  });

  it('reads and coerces values, and treats empty strings as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      PUBLIC_URL: 'https://mandate.example/',
      SEND_RATE_PER_SECOND: '',
      LOG_PRETTY: 'no',
    });
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('https://mandate.example');
    expect(config.sendRatePerSecond).toBe(100);
    expect(config.logPretty).toBe(false);
  });

  it('reads bounces only when asked: a bounce domain, a listener that needs it, a size limit', () => {
    const off = loadConfig({});
    expect(off.mailBounceDomain).toBeUndefined();
    expect(off.bounceSmtpPort).toBeUndefined();
    expect(off.bounceMaxBytes).toBe(256 * 1024);
    const on = loadConfig({ MAIL_BOUNCE_DOMAIN: 'Bounces.Mandate.Example', BOUNCE_SMTP_PORT: '2525', HOST: '0.0.0.0' });
    expect(on).toMatchObject({
      mailBounceDomain: 'bounces.mandate.example',
      bounceSmtpPort: 2525,
      bounceSmtpHost: '0.0.0.0',
    });
    expect(() => loadConfig({ BOUNCE_SMTP_PORT: '2525' })).toThrow(/BOUNCE_SMTP_PORT: needs MAIL_BOUNCE_DOMAIN/);
    expect(() => loadConfig({ MAIL_BOUNCE_DOMAIN: 'not a domain' })).toThrow(/MAIL_BOUNCE_DOMAIN/);
    const domain = { MAIL_BOUNCE_DOMAIN: 'bounces.mandate.example' };
    expect(() => loadConfig({ ...domain, BOUNCE_SMTP_PORT: '0' })).toThrow(/BOUNCE_SMTP_PORT/);
    expect(() => loadConfig({ ...domain, BOUNCE_MAX_BYTES: String(10 * 1024 * 1024 + 1) })).toThrow(/BOUNCE_MAX_BYTES/);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REDIS_URL: 'nope', MAIL_CONCURRENCY: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'MAIL_CONCURRENCY']) expect(message).toContain(name);
    expect(message).toContain('(got "eighty")');
  });

  it('never echoes the value of a secret or a URL', () => {
    const message = (() => {
      try {
        loadConfig({ LINK_SECRET: 'short-secret-value', DATABASE_URL: 'http://user:pw@host/db' });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toContain('LINK_SECRET');
    expect(message).not.toContain('short-secret-value');
    expect(message).not.toContain(':pw@');
  });

  it('requires LINK_SECRET in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail:25' })).toThrow(/LINK_SECRET/);
    expect(
      loadConfig({ NODE_ENV: 'production', LINK_SECRET: 'x'.repeat(32), SMTP_URL: 'smtp://mail:25' })
        .linkSecretIsDefault,
    ).toBe(false);
  });

  it('requires SMTP_URL in production, naming it with LINK_SECRET when both are missing', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', LINK_SECRET: 'x'.repeat(32) })).toThrow(
      /SMTP_URL: is required in production/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/LINK_SECRET[\s\S]*SMTP_URL/);
    expect(loadConfig({ NODE_ENV: 'development' }).smtpUrl).toBeUndefined();
  });

  it('takes DATABASE_URL=embedded only where the embedded PostgreSQL can run (npm start)', () => {
    expect(() => loadConfig({ DATABASE_URL: 'embedded' })).toThrow(
      /DATABASE_URL: `embedded` works with `npm start` only/,
    );
    const config = loadConfig(
      { DATABASE_URL: 'embedded', EMBEDDED_PG_DIR: '/tmp/pg', EMBEDDED_PG_PORT: '0' },
      { embeddedPostgres: true },
    );
    expect(config).toMatchObject({
      embeddedPostgres: 'always',
      embeddedPostgresDir: '/tmp/pg',
      embeddedPostgresPort: 0,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://db.example/m' })).toMatchObject({
      embeddedPostgres: 'never',
      databaseUrl: 'postgres://db.example/m',
    });
    expect(() => loadConfig({ DATABASE_URL: 'embeded' })).toThrow(/DATABASE_URL: must be a URL starting with postgres/);
  });
});

describe('development mode stays on this machine', () => {
  const serving = { servesHttp: true };

  it('refuses to serve outside production on an address other hosts can reach', () => {
    for (const HOST of ['0.0.0.0', '::', '192.168.1.20', '10.1.2.3', 'mandate.lan']) {
      for (const NODE_ENV of ['development', 'test']) {
        expect(() => loadConfig({ NODE_ENV, HOST }, serving), `${NODE_ENV} ${HOST}`).toThrow(ConfigError);
      }
    }
    expect(() => loadConfig({ HOST: '0.0.0.0' }, serving)).toThrow(
      /HOST: development mode listens on this machine only[\s\S]*NODE_ENV=production[\s\S]*ALLOW_DEV_MODE_ON_NETWORK=true[\s\S]*\(got "0\.0\.0\.0"\)/,
    );
  });

  it('serves on a loopback address or localhost', () => {
    for (const HOST of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      expect(loadConfig({ HOST }, serving).host, HOST).toBe(HOST);
    }
  });

  it('serves on the network when told to, and in production', () => {
    expect(loadConfig({ HOST: '0.0.0.0', ALLOW_DEV_MODE_ON_NETWORK: 'true' }, serving)).toMatchObject({
      host: '0.0.0.0',
      allowDevModeOnNetwork: true,
    });
    expect(() => loadConfig({ HOST: '0.0.0.0', ALLOW_DEV_MODE_ON_NETWORK: 'false' }, serving)).toThrow(/HOST/);
    const production = { NODE_ENV: 'production', LINK_SECRET: 'x'.repeat(32), SMTP_URL: 'smtp://mail:25' };
    expect(loadConfig({ ...production, HOST: '0.0.0.0' }, serving).host).toBe('0.0.0.0');
  });

  it('leaves processes that serve no pages alone (workers, the CLI)', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });
});

describe('the development link key', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mandate-data-'));
    dirs.push(dir);
    return dir;
  };
  const keep = { keepDevLinkSecret: true };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is generated once per data directory, kept there (0600) and read on later starts', () => {
    const first = dataDir();
    const second = dataDir();
    const a = loadConfig({ DATA_DIR: first }, keep);
    const again = loadConfig({ DATA_DIR: first }, keep);
    const b = loadConfig({ DATA_DIR: second }, keep);
    expect(a.linkSecret.length).toBeGreaterThanOrEqual(32);
    expect(again.linkSecret).toBe(a.linkSecret);
    expect(b.linkSecret).not.toBe(a.linkSecret);
    const file = path.join(first, 'link-secret');
    expect(a.linkSecretFile).toBe(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.linkSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('creates the data directory when missing', () => {
    const dir = path.join(dataDir(), 'nested', 'state');
    const config = loadConfig({ DATA_DIR: dir }, keep);
    expect(readFileSync(path.join(dir, 'link-secret'), 'utf8').trim()).toBe(config.linkSecret);
  });

  it('refuses a kept key that is too short, naming the file', () => {
    const dir = dataDir();
    loadConfig({ DATA_DIR: dir }, keep);
    const file = path.join(dir, 'link-secret');
    writeFileSync(file, 'short\n');
    expect(() => loadConfig({ DATA_DIR: dir }, keep)).toThrow(/DATA_DIR: .*link-secret/);
  });

  it('refuses a kept key others may read, or that is not a plain file of its own', () => {
    const dir = dataDir();
    loadConfig({ DATA_DIR: dir }, keep);
    const file = path.join(dir, 'link-secret');
    chmodSync(file, 0o644);
    expect(() => loadConfig({ DATA_DIR: dir }, keep)).toThrow(/DATA_DIR: .*readable by others/);
    const other = dataDir();
    symlinkSync(file, path.join(other, 'link-secret'));
    expect(() => loadConfig({ DATA_DIR: other }, keep)).toThrow(/DATA_DIR: .*not a plain file/);
  });

  it('is not used when LINK_SECRET is set: nothing is written', () => {
    const dir = dataDir();
    const config = loadConfig({ DATA_DIR: dir, LINK_SECRET: 'y'.repeat(40) }, keep);
    expect(config.linkSecret).toBe('y'.repeat(40));
    expect(config.linkSecretFile).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is random per process where nothing keeps it (tests, tools): never a constant', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.linkSecretIsDefault).toBe(true);
    expect(a.linkSecret.length).toBeGreaterThanOrEqual(32);
    expect(b.linkSecret).not.toBe(a.linkSecret);
    expect(a.linkSecretFile).toBeUndefined();
  });

  it('appears nowhere in the source as a constant', () => {
    const root = path.join(import.meta.dirname, '..', '..');
    const files = ['lib', 'core', 'services', 'api', 'workers', 'bin', 'cli', 'db']
      .flatMap((dir) =>
        readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
      )
      .filter((f) => /\.tsx?$/.test(f))
      .concat(['start.ts']);
    for (const file of files) {
      const text = readFileSync(path.join(root, file), 'utf8');
      expect(text, file).not.toMatch(/development-only-link-secret|LINK_SECRET\s*\?\?\s*['"`]/);
    }
  });
});
