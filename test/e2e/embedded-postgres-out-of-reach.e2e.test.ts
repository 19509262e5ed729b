import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, projectRoot, type Service, startTsx, waitForHttp } from '../helpers/processes.ts';
import { deleteQueueKeys } from '../helpers/stack.ts';

/**
 * `npm start` as root from a checkout the user `postgres` cannot enter (a clone in /root,
 * whose mode is 0700): that user — the one the server runs as — reaches neither the
 * binaries in node_modules nor `./.data/pg`. Reproduced with a copy of the project inside
 * a fresh 0700 directory (node_modules hard-linked: what counts is the path, not the files).
 */
const asRoot = process.getuid?.() === 0;

let outer: string;
let project: string;
let systemDir: string;
let env: Record<string, string>;
let baseUrl: string;
const running: Service[] = [];

const postgresUid = () => Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());

beforeAll(async () => {
  if (!asRoot) return;
  outer = await mkdtemp('/tmp/mandate-0700-');
  await chmod(outer, 0o700);
  project = path.join(outer, 'mandate');
  await mkdir(project);
  for (const entry of await readdir(projectRoot)) {
    if (['.git', '.data', 'node_modules', 'coverage', 'test-results'].includes(entry)) continue;
    execFileSync('cp', ['-a', path.join(projectRoot, entry), project]);
  }
  execFileSync('cp', ['-al', path.join(projectRoot, 'node_modules'), project]);
  // Where the server's things go instead: a directory of this test's, that the user can reach.
  systemDir = await mkdtemp('/tmp/mandate-pg-system-');
  await chmod(systemDir, 0o755);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  env = {
    NODE_ENV: 'test',
    DATABASE_URL: 'embedded',
    // EMBEDDED_PG_DIR left to its default, ./.data/pg: inside the 0700 directory.
    EMBEDDED_PG_SYSTEM_DIR: systemDir,
    EMBEDDED_PG_PORT: '0',
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
  if (!asRoot) return;
  for (const service of running) await service.stop('SIGKILL');
  // A server left running by a start this test killed: stop it before removing its files.
  for (const lock of execFileSync('find', [systemDir, '-name', 'postmaster.pid'], { encoding: 'utf8' }).split('\n')) {
    const pid = lock ? Number(readFileSync(lock, 'utf8').split('\n')[0]) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {}
    }
  }
  if (env) await deleteQueueKeys(env.QUEUE_PREFIX as string);
  if (outer) await rm(outer, { recursive: true, force: true });
  if (systemDir) await rm(systemDir, { recursive: true, force: true });
});

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

async function logLine(service: Service, pattern: RegExp, timeoutMs = 50_000): Promise<LogLine> {
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

const postgresProcesses = (dir: string) =>
  execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dir) && !/\bZ/.test(line.trim().split(/\s+/)[1] ?? ''));

async function startAndStop(): Promise<{ started: LogLine; banner: LogLine; stopped: LogLine }> {
  const service = startTsx('start.ts', env, project);
  running.push(service);
  await waitForHttp(`${baseUrl}/readyz`, 50_000, service);
  const started = await logLine(service, /^embedded PostgreSQL started on 127\.0\.0\.1:\d+/);
  const banner = await logLine(service, /^Mandate is running/);
  const dataDir = started.dataDir as string;
  const binaries = started.binariesDir as string | undefined;
  // Both out of the 0700 directory, where the server's user reaches them.
  expect(dataDir.startsWith(`${systemDir}${path.sep}`), dataDir).toBe(true);
  expect(binaries?.startsWith(`${systemDir}${path.sep}`), binaries).toBe(true);
  const data = statSync(dataDir);
  expect(data.uid).toBe(postgresUid());
  expect(data.mode & 0o777).toBe(0o700);
  // The copy is root's: the server's user may run it, not change it.
  const bin = statSync(path.join(binaries as string, 'bin', 'postgres'));
  expect(bin.uid).toBe(0);
  expect(bin.mode & 0o022).toBe(0);
  // The first-run block says where the data and the binaries are, and why.
  expect(banner.msg).toContain(`data in ${dataDir}`);
  expect(banner.msg).toContain(path.join(project, '.data', 'pg'));
  expect(banner.msg).toContain(binaries);

  expect(await service.stop('SIGTERM')).toBe(0);
  const stopped = await logLine(service, /^embedded PostgreSQL stopped/, 1000);
  expect(postgresProcesses(systemDir)).toEqual([]);
  // The copied binaries go with the server; the data stay for the next run.
  expect(existsSync(binaries as string)).toBe(false);
  expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
  return { started, banner, stopped };
}

describe.skipIf(!asRoot)('npm start as root from a directory the user postgres cannot enter', () => {
  it('keeps the binaries and the data where that user reaches them, says where, and cleans up', async () => {
    const first = await startAndStop();
    expect(first.started.initialised).toBe(true);
    // The next start finds the same cluster.
    const second = await startAndStop();
    expect(second.started).toMatchObject({ initialised: false, dataDir: first.started.dataDir });
  }, 90_000);
});
