import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runTsx, type Service, startTsx, waitForHttp } from '../helpers/processes.ts';
import { deleteQueueKeys } from '../helpers/stack.ts';

/**
 * `npm start` with DATABASE_URL=embedded: it runs its own PostgreSQL on a data directory
 * of its own, serves, stops the database with itself, and reuses the directory the next
 * time. (DATABASE_URL unset would do the same on a machine where nothing answers at
 * 127.0.0.1:5432 — not this one, where the tests' PostgreSQL does.)
 */
let dataDir: string;
let env: Record<string, string>;
let baseUrl: string;
const running: Service[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mandate-pg-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  env = {
    NODE_ENV: 'test',
    DATABASE_URL: 'embedded',
    EMBEDDED_PG_DIR: dataDir,
    // Any free port: a developer's own `npm start` may hold the default 54329.
    EMBEDDED_PG_PORT: '0',
    // Nothing answers there: with the queues on PostgreSQL, Redis is not needed at all.
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    QUEUE_BACKEND: 'postgres',
    QUEUE_PREFIX: `e2e_pg_${randomBytes(4).toString('hex')}`,
    SMTP_URL: '',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: baseUrl,
    LINK_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };
});

afterAll(async () => {
  for (const service of running) await service.stop('SIGKILL');
  if (env) await deleteQueueKeys(env.QUEUE_PREFIX as string);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** Waits for the JSON log line whose message matches `pattern`. */
async function logLine(service: Service, pattern: RegExp, timeoutMs = 90_000): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const text of service.output().split('\n')) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as LogLine;
      if (pattern.test(line.msg)) return line;
    }
    if (service.child.exitCode !== null) throw new Error(`exited with ${service.child.exitCode}:\n${service.output()}`);
    if (Date.now() > deadline) throw new Error(`no log line ${pattern} within ${timeoutMs} ms:\n${service.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Command lines of the processes running on `dataDir` (none once it is stopped). */
function postgresProcesses(): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dataDir) && !/\bZ/.test(line.trim().split(/\s+/)[1] ?? ''));
}

async function start(): Promise<{ service: Service; started: LogLine; banner: LogLine; ms: number }> {
  const began = Date.now();
  const service = startTsx('start.ts', env);
  running.push(service);
  const started = await logLine(service, /^embedded PostgreSQL started on 127\.0\.0\.1:\d+/);
  await waitForHttp(`${baseUrl}/readyz`, 90_000, service);
  const banner = await logLine(service, /^Mandate is running/);
  return { service, started, banner, ms: Date.now() - began };
}

async function stop(service: Service, postgresPid: number): Promise<void> {
  expect(await service.stop('SIGTERM')).toBe(0);
  await logLine(service, /^embedded PostgreSQL stopped/, 1000);
  expect(() => process.kill(postgresPid, 0)).toThrow();
  expect(postgresProcesses()).toEqual([]);
}

describe('npm start with the embedded PostgreSQL', () => {
  it('initialises and starts its own PostgreSQL, serves, says how to begin, and stops it on SIGTERM', async () => {
    const { service, started, banner, ms } = await start();
    expect(started).toMatchObject({ dataDir, initialised: true });
    const postgresPid = started.postgresPid as number;
    expect(postgresProcesses().some((line) => line.trim().startsWith(`${postgresPid} `))).toBe(true);
    // The first-run block: the URLs, the dev mailbox, and the command for the first partner.
    const url = `postgres://postgres@127.0.0.1:${started.port}/mandate`;
    expect(banner.msg).toContain(`${baseUrl}/dashboard`);
    expect(banner.msg).toContain(`${baseUrl}/docs`);
    expect(banner.msg).toContain(`${baseUrl}/dev/mail`);
    expect(banner.msg).toContain(`DATABASE_URL=${url} npm run mandate -- partner create`);
    expect((await fetch(`${baseUrl}/dev/mail`)).status).toBe(200);

    // The command as printed works against the running instance.
    const cli = await runTsx(
      'cli/mandate.ts',
      [
        'partner',
        'create',
        '--name',
        'Northwind',
        '--owner-email',
        'owner@northwind.example',
        '--json',
        '--without-two-factor-policy',
      ],
      { ...env, DATABASE_URL: url },
    );
    expect(cli.code, cli.stderr).toBe(0);
    const ready = (await (await fetch(`${baseUrl}/readyz`)).json()) as { queueBackend: string; checks: object };
    expect(ready.queueBackend).toBe('postgres');
    expect(Object.keys(ready.checks).sort()).toEqual(['postgres', 'queue']);

    // A campaign of 20 runs to the end on the PostgreSQL queue backend, into the dev mailbox.
    const { token } = JSON.parse(cli.stdout) as { token: string };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const offer = (await (
      await fetch(`${baseUrl}/v1/offers`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'Managed IT', access: 'limited' }),
      })
    ).json()) as { id: string };
    const recipients = Array.from({ length: 20 }, (_, i) => ({ email: `admin${i}@client${i}.example` }));
    const created = await fetch(`${baseUrl}/v1/campaigns`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ offerId: offer.id, recipients }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    let progress: { done: boolean; counts: Record<string, number> } | undefined;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 250));
      progress = (await (await fetch(`${baseUrl}/v1/campaigns/${id}`, { headers })).json()) as typeof progress;
    } while (!progress?.done && Date.now() < deadline);
    expect(progress?.counts).toMatchObject({ invited: 0, offered: 20, failed: 0 });
    const mailbox = await (await fetch(`${baseUrl}/dev/mail`)).text();
    for (const { email } of recipients) expect(mailbox).toContain(email);

    await stop(service, postgresPid);
    console.info(`embedded PostgreSQL: first start (initdb) to /readyz in ${ms} ms`);
  }, 180_000);

  it('reuses the data directory on the next start', async () => {
    const { service, started, banner, ms } = await start();
    expect(started).toMatchObject({ dataDir, initialised: false });
    // The partner made during the first run is still there: no first-run hint.
    expect(banner.msg).not.toContain('No partner yet');
    await stop(service, started.postgresPid as number);
    console.info(`embedded PostgreSQL: second start to /readyz in ${ms} ms`);
  }, 180_000);
});
