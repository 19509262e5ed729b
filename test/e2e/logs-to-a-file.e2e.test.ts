import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort, type Service, startTsx, waitForHttp } from '../helpers/processes.ts';
import { testServices } from '../helpers/services.ts';
import { deleteQueueKeys } from '../helpers/stack.ts';

/**
 * The API's logs as they reach a file or a collector: its stderr is a pipe here, not a
 * terminal. Each request is one line, whatever LOG_PRETTY says, and no line carries a
 * colour code.
 */
let database: TestDatabase;
const prefix = `e2e_logs_${randomBytes(4).toString('hex')}`;
const running: Service[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const service of running) await service.stop('SIGKILL');
  await deleteQueueKeys(prefix);
  await database?.drop();
});

const REQUESTS = 4;
const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Runs the API with `env`, sends a few requests (an answer, a refusal, a 404, a form post), stops it; its output. */
async function requestsLogged(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = startTsx('bin/api.ts', {
    DATABASE_URL: database.url,
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: prefix,
    SMTP_URL: '',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    LINK_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    // What a terminal-less colour hint looks like to libraries that read it: still no colours.
    FORCE_COLOR: '1',
    ...env,
  });
  running.push(api);
  await waitForHttp(`${base}/healthz`, 30_000, api);
  const logged = () => api.output().match(uuid)?.length ?? 0;
  const before = logged();
  await fetch(`${base}/healthz`);
  await fetch(`${base}/v1/offers`);
  await fetch(`${base}/no-such-page`);
  const form = new URLSearchParams({ email: 'a@b.example', password: 'x' });
  await fetch(`${base}/dashboard/sign-in`, { method: 'POST', body: form, redirect: 'manual' });
  // Logged once the response is done: give the last one a moment to be written.
  for (let i = 0; i < 50 && logged() < before + REQUESTS; i++) await new Promise((r) => setTimeout(r, 100));
  await api.stop('SIGTERM');
  return api.output();
}

/** Every request id in the output is on one line, which says what the request was and how it ended. */
function expectOneLineEach(output: string) {
  // ESC: every colour code starts with it.
  expect(output).not.toContain('\u001b');
  const ids = new Set(output.match(uuid));
  expect(ids.size).toBeGreaterThanOrEqual(REQUESTS);
  const lines = output.split('\n');
  for (const id of ids) {
    const mentioning = lines.filter((line) => line.includes(id));
    expect(mentioning, `lines of request ${id}:\n${output}`).toHaveLength(1);
    expect(mentioning[0]).toMatch(/"status":\d{3}/);
    expect(mentioning[0]).toContain('"method":"');
  }
}

describe('logs written to a file', () => {
  it('are JSON lines, one per request, in development too', async () => {
    const output = await requestsLogged({ NODE_ENV: 'development' });
    expectOneLineEach(output);
    for (const line of output.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  }, 60_000);

  it('forced pretty (LOG_PRETTY=true): still one line per request, and no colours', async () => {
    const output = await requestsLogged({ NODE_ENV: 'development', LOG_PRETTY: 'true' });
    expectOneLineEach(output);
    expect(output).toMatch(/INFO.*request/);
  }, 60_000);
});
