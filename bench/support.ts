import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};

export interface Sink {
  port: number;
  url: string;
  count(): Promise<number>;
  waitFor(n: number, timeoutMs: number): Promise<number>;
  stop(): void;
}

/** Starts the counting SMTP sink in a child process. */
export function startSinkProcess(): Promise<Sink> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./smtp-sink-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = () =>
    new Promise<number>((resolve) => {
      const listener = (m: { count?: number }) => {
        if (typeof m.count === 'number') {
          child.off('message', listener);
          resolve(m.count);
        }
      };
      child.on('message', listener);
      child.send('count');
    });
  return new Promise((resolve) => {
    child.once('message', (m: { port: number }) => {
      resolve({
        port: m.port,
        url: `smtp://127.0.0.1:${m.port}`,
        count: ask,
        async waitFor(n, timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const c = await ask();
            if (c >= n) return c;
            if (Date.now() > deadline) throw new Error(`sink has ${c} of ${n} messages after ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        stop: () => child.kill(),
      });
    });
  });
}

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database for one benchmark run; migrated by the process under test. */
export async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mandate_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end();
    },
  };
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function versions(): string {
  const pick = ['bullmq', 'nodemailer', 'drizzle-orm', 'postgres', 'hono', 'ioredis'];
  return pick.map((name) => `${name} ${pkg.dependencies[name]?.replace(/^\^/, '')}`).join(', ');
}

const docPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));

/**
 * Records a run in docs/benchmarks.md: the table of the latest run replaces the one
 * under "Latest run", and the same table is appended to the history at the end.
 */
export function recordResults(title: string, table: string, notes: string[]): void {
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const section = [
    `### ${title} — ${stamp} UTC`,
    '',
    `Machine: ${machine()}  `,
    `Versions: ${versions()}`,
    '',
    table,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  if (!existsSync(docPath))
    writeFileSync(docPath, '# Benchmarks\n\n## Latest run\n\n<!-- latest -->\n\n## History\n\n');
  const doc = readFileSync(docPath, 'utf8');
  const latest = /<!-- latest -->[\s\S]*?(?=\n## History)/;
  writeFileSync(docPath, doc.replace(latest, `<!-- latest -->\n\n${section}`));
  appendFileSync(docPath, `${section}\n`);
}

/** One line of the results table. Figures are already formatted; `ratio` is Mandate / baseline. */
export interface BenchRow {
  benchmark: string;
  mandate: string;
  baseline: string;
  ratio: string;
  target: string;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits });

/** Starts a Mandate entry (`start.ts`, `bin/api.ts`, `bin/worker.ts`) as a child process. */
export function spawnEntry(
  entry: string,
  env: Record<string, string | undefined>,
): { child: import('node:child_process').ChildProcess; output: () => string; stop(): Promise<void> } {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], { cwd: root, env });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Waits until `url` answers 2xx (a Mandate process is ready). */
export async function waitForReady(url: string, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Mandate did not start:\n${output()}`);
}

/** The tests' own: a port nothing listens on. */
export { freePort } from '../test/helpers/processes.ts';
