/**
 * `npm run bench`: runs every benchmark, each against its baseline in the same run,
 * prints one table and records it in docs/benchmarks.md.
 *
 * BENCH_RECIPIENTS (default 30,000) sizes the campaigns, BENCH_LARGE (default 100,000)
 * the large one, BENCH_OPERATIONS (default 10,000) the operations; BENCH_ONLY picks some
 * of campaign,pools,scale,large,operations,api (default all).
 *
 * campaign: `npm start` (the API and the workers in one process, SMTP_POOL_SIZE 5) at the
 * default MAIL_UNCONFIRMED_MAX (K, read from lib/config.ts) and at K = 1 — and at any K
 * listed in BENCH_EXTRA_K — each run after its own bare-nodemailer run at the same pool.
 * pools: bare nodemailer at pools of 5, 10, 20 and 40 (BENCH_POOLS) to the same sink, in
 * the same rounds: the machine's own limit, against which the campaign is set too.
 *
 * Each comparison runs baseline and Mandate in turn, A B A B, BENCH_ROUNDS times (3), and
 * quotes the medians. A run is refused when the machine was already busy before it
 * started (bench/support.ts `checkMachineIdle`); BENCH_ALLOW_BUSY=1 runs it anyway and
 * records nothing. BENCH_SMOKE=1 is a short end-to-end run (small sizes, 2 rounds, 2 s
 * loads) that records nothing either: it shows the harness works, not how fast we are.
 * A campaign that gets no message to the sink for BENCH_STALL_SECONDS (120) fails the run
 * with where it stands and what Mandate logged.
 */
import { cpus } from 'node:os';
import { baseline, type MandateRun, mandate, mandateDefaults, POOL_SIZE, type Throughput } from './campaign.ts';
import { explanations } from './explanations.ts';
import {
  type BenchRow,
  checkMachineIdle,
  fmt,
  MachineBusyError,
  median,
  missedTargetNotes,
  recordResults,
  renderTable,
  rounds,
  spread,
  startSinkProcess,
} from './support.ts';

const smoke = process.env.BENCH_SMOKE === '1';
if (smoke) {
  process.env.BENCH_API_SECONDS ??= '2';
  process.env.BENCH_OPERATIONS ??= '200';
  process.env.BENCH_STALL_SECONDS ??= '60';
}
const n = Number(process.env.BENCH_RECIPIENTS ?? (smoke ? 300 : 30_000));
const large = Number(process.env.BENCH_LARGE ?? (smoke ? 1_000 : 100_000));
const only = new Set((process.env.BENCH_ONLY ?? 'campaign,pools,scale,large,operations,api').split(','));
const defaults = mandateDefaults();
/** K: the default first, then 1, then any extra asked for; each once. */
const ks = [
  ...new Set([defaults.unconfirmedMax, 1, ...(process.env.BENCH_EXTRA_K ?? '').split(',').filter(Boolean).map(Number)]),
];
const pools = [
  ...new Set([POOL_SIZE, ...(process.env.BENCH_POOLS ?? '5,10,20,40').split(',').filter(Boolean).map(Number)]),
].sort((a, b) => a - b);
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

/** Says what a Mandate run logged at warn or above, and whether its chunk jobs all completed. */
function report(label: string, run: MandateRun): void {
  const jobs = run.chunkJobs;
  log(
    `${label}: ${fmt(run.perSecond)} msg/s; send-chunk jobs completed ${jobs.completed}, failed ${jobs.failed}, waiting ${jobs.waiting}, delayed ${jobs.delayed}`,
  );
  for (const line of run.problems.slice(0, 10)) log(`${label} logged: ${line}`);
  if (run.problems.length > 10) log(`${label}: ${run.problems.length - 10} more lines at warn or above`);
}

/**
 * "start / peak / end (±x%), flat|grew|fell" of samples. The target is no growth: peak and
 * end at most 15% (or `floorMiB`) above the start; a fall (memory handed back, or another
 * user of a shared Redis) meets it, and is said.
 */
function startPeakEnd(start: number, samples: readonly number[], floorMiB = 0): { text: string; flat: boolean } {
  const peak = Math.max(start, ...samples);
  const end = samples.at(-1) ?? start;
  const pct = (v: number) => `${v >= start ? '+' : ''}${(((v - start) / start) * 100).toFixed(0)}%`;
  const margin = Math.max(0.15 * start, floorMiB);
  const grew = peak - start > margin || end - start > margin;
  const fell = start - end > margin;
  return {
    text: `${fmt(start, 1)} / ${fmt(peak, 1)} / ${fmt(end, 1)} (peak ${pct(peak)}, end ${pct(end)}: ${grew ? 'grew' : fell ? 'fell' : 'flat'})`,
    flat: !grew,
  };
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
  /** Bare nodemailer's runs by pool size, over every round. */
  const bare = new Map<number, Throughput[]>(pools.map((p) => [p, []]));
  const bareAt = (pool: number) => (bare.get(pool) as Throughput[]).map((r) => r.perSecond);
  const byK = new Map<number, MandateRun[]>(ks.map((k) => [k, []]));
  const atPool = (pool: number) => `(bare nodemailer, pool of ${pool})`;
  const kLabel = (k: number) => `K = ${k}${k === defaults.unconfirmedMax ? ' (the default)' : ''}`;

  if (only.has('campaign') || only.has('pools')) {
    // Each round: for each K, bare nodemailer at Mandate's pool then Mandate; then the
    // other pools. A drift of the machine falls on every side alike.
    for (let round = 0; round < rounds(); round++) {
      const tag = `round ${round + 1} of ${rounds()}`;
      if (only.has('campaign')) {
        for (const k of ks) {
          const b = await baseline(sink, n, POOL_SIZE);
          bare.get(POOL_SIZE)?.push(b);
          log(`${tag}: bare nodemailer, pool of ${POOL_SIZE}: ${fmt(b.perSecond)} msg/s`);
          const m = await mandate(sink, n, { workers: 0, unconfirmedMax: k });
          (byK.get(k) as MandateRun[]).push(m);
          report(`${tag}: npm start, ${kLabel(k)}`, m);
        }
      }
      if (only.has('pools')) {
        for (const pool of pools) {
          if (pool === POOL_SIZE && only.has('campaign')) continue; // run beside each K above
          const b = await baseline(sink, n, pool);
          bare.get(pool)?.push(b);
          log(`${tag}: bare nodemailer, pool of ${pool}: ${fmt(b.perSecond)} msg/s`);
        }
      }
    }
  }

  const bareRuns = bareAt(POOL_SIZE);
  const bareRate = median(bareRuns);
  if (only.has('campaign')) {
    interface Target {
      min: number;
      id: string;
      what: string;
    }
    const atDefault: Target = { min: 0.8, id: 'campaign-default-k', what: 'the default K' };
    const atOne: Target = { min: 0.35, id: 'campaign-k1', what: 'K = 1' };
    for (const k of ks) {
      const runs = byK.get(k) as MandateRun[];
      const rate = median(runs.map((r) => r.perSecond));
      const ratio = rate / bareRate;
      const own: Target[] = [];
      if (k === defaults.unconfirmedMax) own.push(atDefault);
      if (k === 1) own.push(atOne);
      const row = (t: Target | undefined, suffix = ''): BenchRow => ({
        benchmark: `campaign of ${fmt(n)}, npm start, ${kLabel(k)}${suffix} (messages/s, median)`,
        mandate: spread(runs.map((r) => r.perSecond)),
        baseline: `${spread(bareRuns)} ${atPool(POOL_SIZE)}`,
        ratio: ratio.toFixed(2),
        target: t ? `≥ ${t.min.toFixed(2)}` : '—',
        ...(t ? { id: t.id } : {}),
      });
      // The default being 1, one run answers both targets: a row for each.
      if (own.length === 0) rows.push(row(undefined));
      for (const t of own) rows.push(row(t, own.length > 1 ? `, against the target at ${t.what}` : ''));
    }
    for (const k of ks) {
      const runs = byK.get(k) as MandateRun[];
      const m = medianRun(runs, (r) => r.perSecond);
      const ceiling = (cores * 1000) / m.cpuMsPerMessage;
      const bareCpu = median((bare.get(POOL_SIZE) ?? []).map((r) => r.cpuMsPerMessage));
      rows.push(
        {
          benchmark: `CPU of the whole machine per message, ${kLabel(k)} (ms)`,
          mandate: m.cpuMsPerMessage.toFixed(2),
          baseline: `${bareCpu.toFixed(2)} ${atPool(POOL_SIZE)}`,
          ratio: (m.cpuMsPerMessage / bareCpu).toFixed(1),
          target: '—',
        },
        {
          benchmark: `ceiling on ${cores} cores at that CPU cost, ${kLabel(k)} (messages/s)`,
          mandate: fmt(ceiling),
          baseline: fmt(bareRate),
          ratio: (ceiling / bareRate).toFixed(2),
          target: '—',
        },
      );
      const split = m.cpuSplit;
      notes.push(
        `Where Mandate's CPU per message went at ${kLabel(k)} (ms): the Mandate process ${split.mandate.toFixed(2)}, PostgreSQL ${split.postgres.toFixed(2)}, Redis ${split.redis.toFixed(2)}, the rest (the sink, the kernel's share elsewhere, the benchmark) ${(m.cpuMsPerMessage - split.mandate - split.postgres - split.redis).toFixed(2)}.`,
      );
    }
    const posts = [...byK.values()].flat().map((r) => r.postMs);
    rows.push({
      benchmark: `POST /v1/campaigns with ${fmt(n)} recipients (ms, median of every K)`,
      mandate: fmt(median(posts)),
      baseline: '—',
      ratio: '—',
      target: '< 2,000',
      id: 'campaign-post',
    });
  }

  if (only.has('pools')) {
    for (const pool of pools) {
      const rates = bareAt(pool);
      rows.push({
        benchmark: `bare nodemailer, pool of ${pool}, ${fmt(n)} messages (messages/s, median)`,
        mandate: '—',
        baseline: spread(rates),
        ratio: pool === POOL_SIZE ? '1.00' : (median(rates) / bareRate).toFixed(2),
        target: '—',
      });
    }
    const best = pools.reduce((a, b) => (median(bareAt(b)) > median(bareAt(a)) ? b : a));
    const bestRate = median(bareAt(best));
    const k = defaults.unconfirmedMax;
    const runs = byK.get(k) ?? [];
    rows.push({
      benchmark: `campaign of ${fmt(n)}, npm start, ${kLabel(k)}, against the best bare pool (messages/s, median)`,
      mandate: runs.length > 0 ? spread(runs.map((r) => r.perSecond)) : '— (BENCH_ONLY without campaign)',
      baseline: `${spread(bareAt(best))} ${atPool(best)}`,
      ratio: runs.length > 0 ? (median(runs.map((r) => r.perSecond)) / bestRate).toFixed(2) : '—',
      target: '≥ 0.60',
      id: 'campaign-best-pool',
    });
    notes.push(
      `Bare nodemailer at pools of ${pools.join(', ')}: ${fmt(n)} messages queued at once to the same sink, in the same rounds as the campaigns; the best of them is the most this machine sends with nodemailer alone.`,
    );
  }

  if (only.has('scale')) {
    // Each round: the baseline (unless the rounds above ran it), then 1, 2 and 4 worker
    // processes beside the API, at the default K.
    const scaled = new Map<number, number[]>([
      [1, []],
      [2, []],
      [4, []],
    ]);
    const base: number[] = [...bareRuns];
    for (let round = 0; round < rounds(); round++) {
      if (bareRuns.length === 0) base.push((await baseline(sink, n)).perSecond);
      for (const [workers, rates] of scaled) {
        const m = await mandate(sink, n, { workers });
        report(`round ${round + 1}, API + ${workers} worker(s)`, m);
        rates.push(m.perSecond);
      }
    }
    for (const [workers, rates] of scaled) {
      rows.push({
        benchmark: `campaign of ${fmt(n)}, API + ${workers} worker process${workers > 1 ? 'es' : ''}, ${kLabel(defaults.unconfirmedMax)} (messages/s, median)`,
        mandate: spread(rates),
        baseline: `${fmt(median(base))} ${atPool(POOL_SIZE)}`,
        ratio: (median(rates) / median(base)).toFixed(2),
        target: '—',
      });
    }
  }

  if (only.has('large')) {
    const m = await mandate(sink, large, { workers: 2 });
    report('large campaign', m);
    log(`large campaign: ${fmt(m.perSecond)} msg/s over ${fmt(m.seconds)} s`);
    const chunks = Math.ceil(large / defaults.chunkSize);
    // rss[0] is taken just before the POST; the first seconds of sending hold the JIT's
    // warm-up, so "start" is the RSS 10 s into the campaign (or the last, if shorter).
    const rssStart = m.rss[Math.min(10, m.rss.length - 1)] ?? 0;
    const rss = startPeakEnd(rssStart, m.rss.slice(Math.min(10, m.rss.length - 1)));
    // Redis: from just before the POST (the campaign's jobs are not there yet) to right
    // after the last message; 1 MiB of slack, as its start is a few MiB.
    const redisStart = m.redis[0] ?? 0;
    const redis = startPeakEnd(redisStart, m.redis.slice(1), 1);
    const jobs = m.chunkJobs;
    rows.push(
      {
        benchmark: `campaign of ${fmt(large)}, API + 2 workers, ${kLabel(defaults.unconfirmedMax)} (messages/s; total s)`,
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
        benchmark: `worker RSS over ${fmt(large)} messages in ${fmt(chunks)} send-chunk jobs, one of 2 workers: start / peak / end (MiB)`,
        mandate: rss.text,
        baseline: '—',
        ratio: '—',
        target: 'no growth: peak and end ≤ start + 15%',
        met: rss.flat,
        id: 'large-rss',
      },
      {
        benchmark: 'Redis used_memory over the large campaign: start / peak / end (MiB)',
        mandate: redis.text,
        baseline: '—',
        ratio: '—',
        target: 'no growth: peak and end ≤ start + 15% (or 1 MiB)',
        met: redis.flat,
        id: 'large-redis',
      },
    );
    notes.push(
      `Large campaign: ${fmt(large)} recipients in chunks of ${defaults.chunkSize} — ${fmt(chunks)} send-chunk tokens on the campaign-mail queue (at the end: ${jobs.completed} completed, ${jobs.failed} failed, ${jobs.waiting} waiting, ${jobs.delayed} delayed). Worker RSS sampled every second (${m.rss.length} samples) in one of the two worker processes, from 10 s into the campaign; Redis used_memory every second from just before the POST to right after the last message (${m.redis.length} samples; the whole Redis server, so anything else using it counts too). Completed jobs are kept at most 1,000 per queue for an hour (lib/queues/names.ts), which bounds Redis.`,
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

  notes.push(...missedTargetNotes(rows, explanations));
  const table = renderTable(rows);
  console.log(table);
  for (const note of notes) console.log(`- ${note}`);
  const minutes = (performance.now() - began) / 60_000;
  if (!record) {
    log(smoke ? 'smoke run: nothing recorded' : 'the machine was busy before the run: nothing recorded');
  } else
    recordResults('npm run bench', table, [
      `The whole run took ${minutes.toFixed(1)} minutes (BENCH_ONLY=${[...only].join(',')}); baseline and Mandate ran in turn, ${rounds()} rounds, medians quoted (min–max).`,
      `Campaigns: from sending the POST until the SMTP sink (a separate process) has every message; \`npm start\` (the API and the workers in one process) unless said otherwise; MAIL_CONCURRENCY ${defaults.mailConcurrency}, SMTP_POOL_SIZE ${POOL_SIZE}, CAMPAIGN_CHUNK_SIZE ${defaults.chunkSize}, MAIL_UNCONFIRMED_MAX (K, the most messages one crash may duplicate) at the default ${defaults.unconfirmedMax} and at ${ks.filter((k) => k !== defaults.unconfirmedMax).join(', ')}; no send rate limit on either kind of mail; local PostgreSQL and Redis. Each Mandate run follows its own bare-nodemailer run at pool ${POOL_SIZE}; the ratios are against the median of all of them.`,
      'CPU per message is the busy time of the whole machine (/proc/stat) during the run divided by the messages: Node, PostgreSQL, Redis and the sink together. The ceiling is what that cost allows on this many cores if nothing else waited.',
      ...notes,
    ]);
} finally {
  sink.stop();
}
