import { describe, expect, it } from 'vitest';
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

  it('bounds browser sessions: 30 minutes idle and 12 hours in all by default', () => {
    expect(loadConfig({})).toMatchObject({ sessionIdleMinutes: 30, sessionMaxHours: 12 });
    expect(loadConfig({ SESSION_IDLE_MINUTES: '5', SESSION_MAX_HOURS: '1' })).toMatchObject({
      sessionIdleMinutes: 5,
      sessionMaxHours: 1,
    });
    expect(() => loadConfig({ SESSION_IDLE_MINUTES: '0' })).toThrow(/SESSION_IDLE_MINUTES/);
    expect(() => loadConfig({ SESSION_MAX_HOURS: 'half a day' })).toThrow(/SESSION_MAX_HOURS/);
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
