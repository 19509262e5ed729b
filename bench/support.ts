import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
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
  /**
   * Whether the target is met, where the target is not a plain `≥ ratio` or `< figure`
   * ({@link targetMet} reads those); a missed one gets a note (bench/explanations.ts).
   */
  met?: boolean;
  /** A stable name for the row's target: the key of its explanation in bench/explanations.ts. */
  id?: string;
}

const leadingNumber = (text: string): number => Number(/^-?[\d,]+(\.\d+)?/.exec(text.trim())?.[0]?.replaceAll(',', ''));

/**
 * Whether a row meets its target: `met` when given; else `≥ x` against the ratio and
 * `< x` against Mandate's figure (its first number); undefined where there is nothing to check.
 */
export function targetMet(row: BenchRow): boolean | undefined {
  if (row.met !== undefined) return row.met;
  const atLeast = /^≥\s*([\d.,]+)$/.exec(row.target.trim());
  if (atLeast) {
    const ratio = leadingNumber(row.ratio);
    return Number.isNaN(ratio) ? undefined : ratio >= leadingNumber(atLeast[1] as string);
  }
  const below = /^<\s*([\d.,]+)$/.exec(row.target.trim());
  if (below) {
    const figure = leadingNumber(row.mandate);
    return Number.isNaN(figure) ? undefined : figure < leadingNumber(below[1] as string);
  }
  return undefined;
}

/** The results table: each target beside its measured figure, and whether it is met. */
export function renderTable(rows: readonly BenchRow[]): string {
  const verdict = (row: BenchRow) => {
    const met = targetMet(row);
    return met === undefined ? '—' : met ? 'met' : 'missed (see the notes)';
  };
  return [
    '| benchmark | Mandate | baseline | ratio | target | verdict |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.benchmark} | ${r.mandate} | ${r.baseline} | ${r.ratio} | ${r.target} | ${verdict(r)} |`),
  ].join('\n');
}

/**
 * A note for each missed target: what was measured against what, and why — the
 * explanation kept in bench/explanations.ts under the row's id (written from a profile of
 * the run), or a placeholder asking for one.
 */
export function missedTargetNotes(rows: readonly BenchRow[], explanations: Readonly<Record<string, string>>): string[] {
  return rows
    .filter((row) => targetMet(row) === false)
    .map((row) => {
      const measured = /^≥/.test(row.target.trim()) ? `ratio ${row.ratio}` : row.mandate;
      const why =
        (row.id && explanations[row.id]) ||
        `Why: not explained yet — profile the run (BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof") and write the explanation into bench/explanations.ts${row.id ? ` under \`${row.id}\`` : ''}.`;
      return `Target missed — ${row.benchmark}: ${measured} against ${row.target}. ${why}`;
    });
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
    // A child killed by a signal has no exit code but a signal code: it is gone all the same.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
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

/** One reading of /proc/stat's first line: busy and total jiffies of the whole machine. */
function cpuTimes(): { busy: number; total: number } | null {
  if (!existsSync('/proc/stat')) return null;
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = fields.reduce((a, b) => a + b, 0);
  // idle + iowait
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

export interface MachineLoad {
  /** The share of all cores busy over the sample, 0–1 (null where /proc/stat is missing). */
  busy: number | null;
  /** The 1-minute load average divided by the cores. */
  loadPerCore: number;
}

/** How busy the machine is now: /proc/stat over `ms`, and the load average. */
export async function machineLoad(ms = 3000): Promise<MachineLoad> {
  const before = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const after = cpuTimes();
  const busy =
    before && after && after.total > before.total ? (after.busy - before.busy) / (after.total - before.total) : null;
  return { busy, loadPerCore: (loadavg()[0] ?? 0) / cpus().length };
}

/**
 * The busiest the machine may be before a run for the run to count: over a few seconds
 * of /proc/stat, at most BENCH_IDLE_MAX_BUSY (default 0.15) of all cores busy, and a
 * 1-minute load average of at most BENCH_IDLE_MAX_LOAD (default 0.5) per core. A run
 * started on a machine already busy measures the other work as much as ours: its numbers
 * are not recorded. BENCH_ALLOW_BUSY=1 runs anyway, without recording; so does a smoke run
 * (BENCH_SMOKE=1), which records nothing in any case.
 */
export async function checkMachineIdle(log: (text: string) => void): Promise<{ record: boolean; load: MachineLoad }> {
  const maxBusy = Number(process.env.BENCH_IDLE_MAX_BUSY ?? 0.15);
  const maxLoad = Number(process.env.BENCH_IDLE_MAX_LOAD ?? 0.5);
  const load = await machineLoad();
  const busyText = load.busy === null ? 'unknown' : `${(load.busy * 100).toFixed(0)}%`;
  const described = `${busyText} of ${cpus().length} cores busy over 3 s, load average ${(load.loadPerCore * cpus().length).toFixed(2)}`;
  const busy = (load.busy ?? 0) > maxBusy || load.loadPerCore > maxLoad;
  if (!busy) {
    log(`machine idle before the run (${described})`);
    return { record: true, load };
  }
  const message = `The machine was already busy before the benchmark started (${described}; allowed: ${(maxBusy * 100).toFixed(0)}% busy, load ${maxLoad} per core). Its numbers would measure the other work too, so the run is refused. Wait until the machine is idle, or set BENCH_ALLOW_BUSY=1 to run anyway (a smoke run: nothing is recorded).`;
  // A smoke run records nothing anyway: it only shows that every part runs.
  if (process.env.BENCH_SMOKE === '1') {
    log(`${message.split('. ')[0]}; BENCH_SMOKE=1: running anyway, not recording`);
    return { record: false, load };
  }
  if (process.env.BENCH_ALLOW_BUSY !== '1') throw new MachineBusyError(message);
  log(`${message.split('. ')[0]}; BENCH_ALLOW_BUSY=1: running anyway, not recording`);
  return { record: false, load };
}

export class MachineBusyError extends Error {
  override name = 'MachineBusyError';
}

/** The median of the values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** How many times each side runs (BENCH_ROUNDS, default 3; a smoke run, 2). */
export const rounds = (): number => Number(process.env.BENCH_ROUNDS ?? (process.env.BENCH_SMOKE === '1' ? 2 : 3));

/**
 * Runs the baseline and Mandate in turn, A B A B …, `rounds()` times each: a drift of the
 * machine during the run (another process, the page cache, thermal limits) then falls on
 * both sides alike. Quote the medians ({@link median}).
 */
export async function interleaved<B, M>(
  sides: { baseline: (round: number) => Promise<B>; mandate: (round: number) => Promise<M> },
  log: (text: string) => void = () => {},
): Promise<{ baseline: B[]; mandate: M[] }> {
  const result: { baseline: B[]; mandate: M[] } = { baseline: [], mandate: [] };
  const n = rounds();
  for (let round = 0; round < n; round++) {
    log(`round ${round + 1} of ${n}: baseline`);
    result.baseline.push(await sides.baseline(round));
    log(`round ${round + 1} of ${n}: Mandate`);
    result.mandate.push(await sides.mandate(round));
  }
  return result;
}

/** "median (min–max, n runs)" of figures already in their unit. */
export const spread = (values: readonly number[], digits = 0): string =>
  values.length > 1
    ? `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}, ${values.length} runs)`
    : fmt(median(values), digits);
