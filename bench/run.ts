/**
 * `npm run bench`: runs every benchmark, each against its baseline in the same run,
 * prints one table and records it in docs/benchmarks.md.
 *
 * BENCH_RECIPIENTS (default 10,000) sizes the campaigns, BENCH_LARGE (default 100,000)
 * the large one, BENCH_OPERATIONS (default 10,000) the operations; BENCH_ONLY picks some
 * of campaign,scale,large,operations,api (default all).
 *
 * Each comparison runs baseline and Mandate in turn, A B A B, BENCH_ROUNDS times (3), and
 * quotes the medians. A run is refused when the machine was already busy before it
 * started (bench/support.ts `checkMachineIdle`); BENCH_ALLOW_BUSY=1 runs it anyway and
 * records nothing. BENCH_SMOKE=1 is a short end-to-end run (small sizes, 2 rounds, 2 s
 * loads) that records nothing either: it shows the harness works, not how fast we are.
 */
import { cpus } from 'node:os';
import { baseline, mandate } from './campaign.ts';
import {
  type BenchRow,
  checkMachineIdle,
  fmt,
  interleaved,
  MachineBusyError,
  median,
  recordResults,
  rounds,
  spread,
  startSinkProcess,
} from './support.ts';

const smoke = process.env.BENCH_SMOKE === '1';
if (smoke) {
  process.env.BENCH_API_SECONDS ??= '2';
  process.env.BENCH_OPERATIONS ??= '200';
}
const n = Number(process.env.BENCH_RECIPIENTS ?? (smoke ? 300 : 10_000));
const large = Number(process.env.BENCH_LARGE ?? (smoke ? 1_000 : 100_000));
const only = new Set((process.env.BENCH_ONLY ?? 'campaign,scale,large,operations,api').split(','));
const cores = cpus().length;
const rows: BenchRow[] = [];
const notes: string[] = [];
const began = performance.now();
const log = (text: string) => console.error(`[bench ${((performance.now() - began) / 1000).toFixed(0)} s] ${text}`);

/** The run whose `key` is the median (the lower middle one for an even count). */
function medianRun<T>(runs: readonly T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

let record: boolean;
try {
  ({ record } = await checkMachineIdle(log));
} catch (error) {
  if (!(error instanceof MachineBusyError)) throw error;
  console.error(error.message);
  process.exit(2);
}
if (smoke) record = false;

const sink = await startSinkProcess();
try {
  await baseline(sink, Math.min(500, n)); // warm the sink and the TCP stack
  let baseRuns: Awaited<ReturnType<typeof baseline>>[] = [];
  const bare = '(bare nodemailer, pool of 5)';

  if (only.has('campaign')) {
    const runs = await interleaved(
      { baseline: () => baseline(sink, n), mandate: () => mandate(sink, n, { workers: 0 }) },
      log,
    );
    baseRuns = runs.baseline;
    const b = medianRun(runs.baseline, (r) => r.perSecond);
    const m = medianRun(runs.mandate, (r) => r.perSecond);
    log(`bare nodemailer: ${spread(runs.baseline.map((r) => r.perSecond))} msg/s`);
    log(`npm start: ${spread(runs.mandate.map((r) => r.perSecond))} msg/s`);
    const split = m.cpuSplit;
    notes.push(
      `Where Mandate's CPU per message went (ms): the Mandate process ${split.mandate.toFixed(2)}, PostgreSQL ${split.postgres.toFixed(2)}, Redis ${split.redis.toFixed(2)}, the rest (the sink, the kernel's share elsewhere, the benchmark) ${(m.cpuMsPerMessage - split.mandate - split.postgres - split.redis).toFixed(2)}.`,
    );
    const ceiling = (cores * 1000) / m.cpuMsPerMessage;
    rows.push(
      {
        benchmark: `campaign of ${fmt(n)}, end to end (messages/s, median)`,
        mandate: spread(runs.mandate.map((r) => r.perSecond)),
        baseline: `${spread(runs.baseline.map((r) => r.perSecond))} ${bare}`,
        ratio: (m.perSecond / b.perSecond).toFixed(2),
        target: '≥ 0.70',
      },
      {
        benchmark: 'CPU of the whole machine per message (ms)',
        mandate: m.cpuMsPerMessage.toFixed(2),
        baseline: b.cpuMsPerMessage.toFixed(2),
        ratio: (m.cpuMsPerMessage / b.cpuMsPerMessage).toFixed(1),
        target: '—',
      },
      {
        benchmark: `ceiling on ${cores} cores at that CPU cost (messages/s)`,
        mandate: fmt(ceiling),
        baseline: fmt(b.perSecond),
        ratio: (ceiling / b.perSecond).toFixed(2),
        target: '—',
      },
      {
        benchmark: `POST /v1/campaigns with ${fmt(n)} recipients (ms)`,
        mandate: fmt(m.postMs),
        baseline: '—',
        ratio: '—',
        target: '< 2,000',
      },
    );
  }

  if (only.has('scale')) {
    // Each round: the baseline, then 1, 2 and 4 worker processes.
    const scaled = new Map<number, number[]>([
      [1, []],
      [2, []],
      [4, []],
    ]);
    const base: number[] = only.has('campaign') ? baseRuns.map((r) => r.perSecond) : [];
    for (let round = 0; round < rounds(); round++) {
      if (!only.has('campaign')) base.push((await baseline(sink, n)).perSecond);
      for (const [workers, rates] of scaled) {
        const m = await mandate(sink, n, { workers });
        log(`round ${round + 1}, API + ${workers} worker(s): ${fmt(m.perSecond)} msg/s`);
        rates.push(m.perSecond);
      }
    }
    for (const [workers, rates] of scaled) {
      rows.push({
        benchmark: `campaign of ${fmt(n)}, API + ${workers} worker process${workers > 1 ? 'es' : ''} (messages/s, median)`,
        mandate: spread(rates),
        baseline: `${fmt(median(base))} ${bare}`,
        ratio: (median(rates) / median(base)).toFixed(2),
        target: '—',
      });
    }
  }

  if (only.has('large')) {
    const m = await mandate(sink, large, { workers: 2 });
    log(`large campaign: ${fmt(m.perSecond)} msg/s over ${fmt(m.seconds)} s`);
    // The first seconds hold start-up and JIT warm-up; "start" is the RSS 10 s in.
    const start = m.rss[Math.min(10, m.rss.length - 1)] ?? 0;
    const peak = Math.max(...m.rss);
    const end = m.rss.at(-1) ?? 0;
    const growth = ((end - start) / start) * 100;
    rows.push(
      {
        benchmark: `campaign of ${fmt(large)}, API + 2 workers (messages/s; total s)`,
        mandate: `${fmt(m.perSecond)}; ${fmt(m.seconds)} s`,
        baseline: '—',
        ratio: '—',
        target: '—',
      },
      {
        benchmark: `POST /v1/campaigns with ${fmt(large)} recipients (ms)`,
        mandate: fmt(m.postMs),
        baseline: '—',
        ratio: '—',
        target: '—',
      },
      {
        benchmark: `worker RSS over ${fmt(large / 2)} jobs: start / peak / end (MiB)`,
        mandate: `${fmt(start)} / ${fmt(peak)} / ${fmt(end)} (${growth >= 0 ? '+' : ''}${growth.toFixed(0)}%)`,
        baseline: '—',
        ratio: '—',
        target: 'flat ± 15%',
      },
      {
        benchmark: 'Redis memory after the large campaign (MiB)',
        mandate: m.redisMiB.toFixed(1),
        baseline: '—',
        ratio: '—',
        target: 'bounded by retention',
      },
    );
    notes.push(
      `Worker RSS sampled every second (${m.rss.length} samples) in one of the two worker processes; each handled about half the jobs. Completed jobs are kept at most 1,000 per queue for an hour (lib/queues/names.ts), which bounds Redis.`,
    );
  }

  if (only.has('operations')) {
    const { benchOperations } = await import('./operations.ts');
    const opRows = await benchOperations(sink, Number(process.env.BENCH_OPERATIONS ?? 10_000));
    rows.push(...opRows);
    log('operations done');
    notes.push(
      'Operations: `npm start` on a fresh database, one active delegation with full access, n `POST /v1/delegations/{id}/users` (each with its own Idempotency-Key, 50 in flight) until every operation succeeded — each also emails a temporary password to the sink. Baseline: bare Hono + bare BullMQ in one process doing the same kinds of work — each POST inserts a row and adds a job, each job runs one PostgreSQL transaction (a guarded UPDATE and an INSERT) and sends one email with nodemailer (pool of 5) to the same sink, at the same worker concurrency and 50 requests in flight.',
    );
  }

  if (only.has('api')) {
    const { benchApi } = await import('./api.ts');
    rows.push(...(await benchApi()));
    log('API done');
    notes.push(
      'API: `bin/api.ts` alone (no workers), LOG_LEVEL=warn, autocannon 20 connections, 10 s after a 2 s warm-up; POST with a new Idempotency-Key and user name per request (operations stay queued).',
      'Bare Hono answers Mandate’s own GET body; "bare Hono + postgres.js" runs the GET’s one statement (the token’s lookup with the delegation and its events) and nothing else — the ceiling of a database-backed route on this machine.',
    );
  }

  const table = [
    '| benchmark | Mandate | baseline | ratio | target |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.benchmark} | ${r.mandate} | ${r.baseline} | ${r.ratio} | ${r.target} |`),
  ].join('\n');
  console.log(table);
  const minutes = (performance.now() - began) / 60_000;
  if (!record) {
    log(smoke ? 'smoke run: nothing recorded' : 'the machine was busy before the run: nothing recorded');
  } else
    recordResults('npm run bench', table, [
      `The whole run took ${minutes.toFixed(1)} minutes (BENCH_ONLY=${[...only].join(',')}); baseline and Mandate ran in turn, ${rounds()} rounds, medians quoted (min–max).`,
      'Campaigns: from sending the POST until the SMTP sink (a separate process) has every message; MAIL_CONCURRENCY 20, SMTP_POOL_SIZE 5, MAIL_UNCONFIRMED_MAX 1 (at most one duplicate per crash), no send rate limit, local PostgreSQL and Redis.',
      'CPU per message is the busy time of the whole machine (/proc/stat) during the run divided by the messages: Node, PostgreSQL, Redis and the sink together. The ceiling is what that cost allows on this many cores if nothing else waited.',
      ...notes,
    ]);
} finally {
  sink.stop();
}
