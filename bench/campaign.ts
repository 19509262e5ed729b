/**
 * Campaign throughput: N recipients through `POST /v1/campaigns` until the SMTP sink has
 * every message, against bare nodemailer sending N messages with the same pool settings
 * to the same sink, in the same run. Also: the CPU each costs per message (the whole
 * machine's, from /proc/stat — PostgreSQL, Redis and the sink included), bare nodemailer
 * at larger pools (the machine's own limit), scale-out over 1, 2 and 4 worker processes,
 * and one large campaign with the worker's RSS and Redis's memory sampled every second.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { renderOfferEmail } from '../core/emails/offer-email.ts';
import { createDb, createSql } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { loadConfig } from '../lib/config.ts';
import { createPartner } from '../services/accounts/partners.ts';
import { deleteQueueKeys } from '../test/helpers/stack.ts';
import { createBenchDatabase, freePort, type Sink, spawnEntry, waitForReady } from './support.ts';

export const POOL_SIZE = 5;
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The defaults Mandate runs with when nothing is set, read from lib/config.ts (not the
 * caller's environment), so the benchmark follows a change of default by itself.
 */
export function mandateDefaults(): { unconfirmedMax: number; chunkSize: number; mailConcurrency: number } {
  const config = loadConfig({ NODE_ENV: 'test' });
  return {
    unconfirmedMax: config.mailUnconfirmedMax,
    chunkSize: config.campaignChunkSize,
    mailConcurrency: config.mailConcurrency,
  };
}

/**
 * Seconds without a new message at the sink after which a campaign counts as stuck
 * (BENCH_STALL_SECONDS, default 120): the run fails with what the processes logged and
 * where the campaign stands, instead of waiting out the hour.
 */
const stallSeconds = () => Number(process.env.BENCH_STALL_SECONDS ?? 120);

/** Busy CPU time of the whole machine so far, in ms (all cores; USER_HZ is 100). */
function machineBusyMs(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, user, nice, system, idle, iowait, irq, softirq, steal] = (cpu ?? '').split(/\s+/).map(Number);
  void idle;
  void iowait;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
}

/** CPU time (ms) used so far by processes, grouped: the given pids as `mandate`, PostgreSQL, Redis. */
export function cpuByGroup(mandatePids: number[]): Record<'mandate' | 'postgres' | 'redis', number> {
  const totals = { mandate: 0, postgres: 0, redis: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, USER_HZ 100
    if (mandatePids.includes(Number(entry))) totals.mandate += ms;
    else if (comm === 'postgres') totals.postgres += ms;
    else if (comm.startsWith('redis-server')) totals.redis += ms;
  }
  return totals;
}

function rssMiB(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface Throughput {
  perSecond: number;
  /** Busy CPU of the whole machine per message, in ms. */
  cpuMsPerMessage: number;
}

const sampleEmail = renderOfferEmail({
  partnerName: 'Bench Partner',
  roles: ['password_admin'],
  durationDays: 730,
  autoExtend: true,
  link: `http://127.0.0.1/offers/${'x'.repeat(43)}`,
  recipientName: null,
  recipientCompany: null,
  offerExpiresAt: new Date(),
});

/** Bare nodemailer: a pool of `pool` connections (Mandate's, by default), every message queued at once. */
export async function baseline(sink: Sink, n: number, pool = POOL_SIZE): Promise<Throughput> {
  const transport = nodemailer.createTransport({
    url: sink.url,
    pool: true,
    maxConnections: pool,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  const before = await sink.count();
  const cpuBefore = machineBusyMs();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      transport.sendMail({
        from: 'bench@localhost',
        to: `r${i}@client.example`,
        messageId: `<b${i}@localhost>`,
        ...sampleEmail,
      }),
    ),
  );
  await sink.waitFor(before + n, 600_000);
  const seconds = (performance.now() - started) / 1000;
  const cpu = machineBusyMs() - cpuBefore;
  transport.close();
  return { perSecond: n / seconds, cpuMsPerMessage: cpu / n };
}

export interface MandateRun extends Throughput {
  recipients: number;
  /** MAIL_UNCONFIRMED_MAX the run had. */
  unconfirmedMax: number;
  postMs: number;
  /** RSS of the (first) worker process: just before the POST, then every second (MiB). */
  rss: number[];
  /** Redis `used_memory`: just before the POST, then every second, the last right after the run (MiB). */
  redis: number[];
  /** Redis memory in use right after the run, before the queue keys are deleted (MiB). */
  redisMiB: number;
  /** Lines at level warn or above that the Mandate processes logged during the run, and failed jobs. */
  problems: string[];
  /** The `campaign-mail` queue's jobs (the chunks' `send-chunk` tokens) at the end of the run. */
  chunkJobs: { completed: number; failed: number; waiting: number; delayed: number };
  seconds: number;
  /** CPU ms per message by process group (PostgreSQL backends that ended mid-run are missed). */
  cpuSplit: Record<'mandate' | 'postgres' | 'redis', number>;
}

/**
 * One campaign of `n` recipients. `workers: 0` runs `npm start` (API and workers in one
 * process); `workers: k` runs the API alone and k worker processes.
 */
export async function mandate(
  sink: Sink,
  n: number,
  options: { workers: number; unconfirmedMax?: number },
): Promise<MandateRun> {
  const unconfirmedMax = options.unconfirmedMax ?? mandateDefaults().unconfirmedMax;
  const database = await createBenchDatabase();
  const port = await freePort();
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    QUEUE_BACKEND: 'redis',
    QUEUE_PREFIX: prefix,
    SMTP_URL: sink.url,
    SMTP_POOL_SIZE: String(POOL_SIZE),
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LINK_SECRET: randomBytes(32).toString('hex'),
    // No limiter on either kind of mail: the benchmark measures the engine, not a pace.
    SEND_RATE_PER_SECOND: '0',
    TRANSACTIONAL_SEND_RATE_PER_SECOND: '0',
    MAIL_UNCONFIRMED_MAX: String(unconfirmedMax),
    LOG_LEVEL: 'warn',
  };
  const processes: ReturnType<typeof spawnEntry>[] = [];
  const base = `http://127.0.0.1:${port}`;
  const redis = new Redis(redisUrl);
  try {
    if (options.workers === 0) {
      processes.push(spawnEntry('start.ts', env));
    } else {
      await migrateDatabase(database.url);
      processes.push(spawnEntry('bin/api.ts', env));
      for (let i = 0; i < options.workers; i++) processes.push(spawnEntry('bin/worker.ts', env));
    }
    const api = processes[0] as (typeof processes)[0];
    await waitForReady(`${base}/readyz`, api.output);
    const sql = createSql(database.url, { max: 1 });
    const { token } = await createPartner(createDb(sql), {
      name: 'Bench Partner',
      ownerEmail: 'owner@bench.example',
      requireTwoFactor: false,
    });
    await sql.end();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const offer = (await (
      await fetch(`${base}/v1/offers`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'Bench', access: 'limited' }),
      })
    ).json()) as { id: string };
    // Let the workers settle (connections, schedulers, the start-up reconcile) first.
    await new Promise((r) => setTimeout(r, 1500));
    const body = JSON.stringify({
      offerId: offer.id,
      recipients: Array.from({ length: n }, (_, i) => ({ email: `r${i}@client.example` })),
    });
    const workerPid = (processes[options.workers === 0 ? 0 : 1] as (typeof processes)[0]).child.pid as number;
    const usedMiB = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0) / 2 ** 20;
    const rss: number[] = [];
    const redisSamples: number[] = [];
    const sampleRss = () => {
      const value = rssMiB(workerPid);
      if (value !== undefined) rss.push(value);
    };
    let sampling = false;
    const sampleRedis = async () => {
      if (sampling) return; // a slow INFO must not pile up
      sampling = true;
      try {
        redisSamples.push(await usedMiB());
      } catch {
      } finally {
        sampling = false;
      }
    };
    sampleRss();
    await sampleRedis();
    const sampler = setInterval(() => {
      sampleRss();
      void sampleRedis();
    }, 1000);
    const pids = processes.map((p) => p.child.pid as number);
    const outputAt = processes.map((p) => p.output().length);
    const before = await sink.count();
    const splitBefore = cpuByGroup(pids);
    const cpuBefore = machineBusyMs();
    const started = performance.now();
    const response = await fetch(`${base}/v1/campaigns`, { method: 'POST', headers, body });
    const postMs = performance.now() - started;
    if (response.status !== 202) throw new Error(`campaign refused: ${response.status} ${await response.text()}`);
    try {
      await waitForCampaign(sink, before, n, async () => ({
        state: `${await campaignState(database.url)}; ${
          processes
            .map((p, i) => ({ p, i }))
            .filter(({ p }) => p.child.exitCode !== null || p.child.signalCode !== null)
            .map(
              ({ p, i }) =>
                `process ${i} (pid ${p.child.pid}) has exited: ${p.child.signalCode ? `signal ${p.child.signalCode}` : `code ${p.child.exitCode}`}`,
            )
            .join('; ') || 'every Mandate process still runs'
        }`,
        output: processes.map((p, i) => p.output().slice(outputAt[i])).join(''),
      }));
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = machineBusyMs() - cpuBefore;
    const splitAfter = cpuByGroup(pids);
    const cpuSplit = {
      mandate: (splitAfter.mandate - splitBefore.mandate) / n,
      postgres: (splitAfter.postgres - splitBefore.postgres) / n,
      redis: (splitAfter.redis - splitBefore.redis) / n,
    };
    const redisMiB = await usedMiB();
    redisSamples.push(redisMiB);
    // Outside the time measured: the campaign's end in the database (every chunk done) and
    // its tokens' end in the queue, so a token that never ends is seen.
    const queue = `${prefix}:campaign-mail`;
    const check = createSql(database.url, { max: 1 });
    let settled: boolean;
    try {
      settled = await waitUntil(async () => {
        const [chunks] = await check`select count(*)::int as n from send_chunks where done_at is null`;
        const live =
          (await redis.llen(`${queue}:wait`)) +
          (await redis.llen(`${queue}:active`)) +
          (await redis.zcard(`${queue}:delayed`));
        return Number(chunks?.n) === 0 && live === 0;
      }, 30_000);
    } finally {
      await check.end();
    }
    const problems = processes.flatMap((p, i) => problemLines(p.output().slice(outputAt[i])));
    if (!settled)
      problems.push(
        `30 s after the last message: ${await campaignState(database.url)}; ${await queueState(redis, queue)}`,
      );
    const chunkJobs = {
      completed: await redis.zcard(`${queue}:completed`),
      failed: await redis.zcard(`${queue}:failed`),
      waiting: await redis.llen(`${queue}:wait`),
      delayed: await redis.zcard(`${queue}:delayed`),
    };
    for (const id of await redis.zrange(`${queue}:failed`, '0', '4')) {
      const job = await redis.hmget(`${queue}:${id}`, 'name', 'failedReason');
      problems.push(`failed job ${job[0]} ${id}: ${job[1]}`);
    }
    return {
      recipients: n,
      unconfirmedMax,
      perSecond: n / seconds,
      cpuMsPerMessage: cpu / n,
      postMs,
      rss,
      redis: redisSamples,
      redisMiB,
      problems,
      chunkJobs,
      seconds,
      cpuSplit,
    };
  } finally {
    for (const p of processes.reverse()) await p.stop();
    redis.disconnect();
    await deleteQueueKeys(prefix);
    await database.drop();
  }
}

/**
 * Waits until the sink has `before + n` messages; fails when none arrived for
 * {@link stallSeconds}, with where the campaign stands and what the processes logged.
 */
async function waitForCampaign(
  sink: Sink,
  before: number,
  n: number,
  diagnose: () => Promise<{ state: string; output: string }>,
): Promise<void> {
  let last = before;
  let lastProgress = Date.now();
  for (;;) {
    const count = await sink.count();
    if (count >= before + n) return;
    if (count > last) {
      last = count;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > stallSeconds() * 1000) {
      const { state, output } = await diagnose();
      const tail = output.trimEnd().split('\n').slice(-40).join('\n');
      throw new Error(
        `campaign stuck: the sink has ${count - before} of ${n} messages and none arrived for ${stallSeconds()} s; ${state}\n--- last lines the Mandate processes logged ---\n${tail || '(nothing)'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Where a campaign stands in the database: recipients by state, chunks still to send. */
async function campaignState(url: string): Promise<string> {
  const sql = createSql(url, { max: 1 });
  try {
    const states = await sql`select state, count(*)::int as n from delegations group by state order by state`;
    const [chunks] = await sql`
      select count(*)::int as total,
             count(*) filter (where done_at is null)::int as pending,
             count(*) filter (where done_at is null and lease_until > now())::int as leased
        from send_chunks`;
    const [doubt] = await sql`select count(*)::int as n from delegations where send_in_doubt`;
    return `recipients by state: ${states.map((r) => `${r.state} ${r.n}`).join(', ') || 'none'}; chunks: ${chunks?.pending} of ${chunks?.total} pending (${chunks?.leased} leased); in doubt: ${doubt?.n}`;
  } catch (error) {
    return `(the database could not be read: ${(error as Error).message})`;
  } finally {
    await sql.end();
  }
}

/** Log lines at warn level or above (pino: 40 warn, 50 error, 60 fatal), and anything not JSON. */
function problemLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        return Number((JSON.parse(line) as { level?: number }).level ?? 0) >= 40;
      } catch {
        return true;
      }
    });
}

/** Polls `done()` every 100 ms for up to `ms`; whether it came true. */
async function waitUntil(done: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A BullMQ queue's jobs by list. */
async function queueState(redis: Redis, queue: string): Promise<string> {
  const [wait, active, delayed, completed, failed] = [
    await redis.llen(`${queue}:wait`),
    await redis.llen(`${queue}:active`),
    await redis.zcard(`${queue}:delayed`),
    await redis.zcard(`${queue}:completed`),
    await redis.zcard(`${queue}:failed`),
  ];
  return `send-chunk jobs: ${wait} waiting, ${active} active, ${delayed} delayed, ${completed} completed, ${failed} failed`;
}
