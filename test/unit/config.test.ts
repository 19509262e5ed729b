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
      smtpUrl: 'smtp://127.0.0.1:1025',
      queuePrefix: 'mandate',
      sendRatePerSecond: 100,
      linkSecretIsDefault: true,
    });
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
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/LINK_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', LINK_SECRET: 'x'.repeat(32) }).linkSecretIsDefault).toBe(false);
  });
});
