/**
 * Campaign throughput: N recipients through `POST /v1/campaigns` until the SMTP sink has
 * every message, against bare nodemailer sending N messages with the same pool settings
 * to the same sink, in the same run. Also: the CPU each costs per message (the whole
 * machine's, from /proc/stat — PostgreSQL, Redis and the sink included), scale-out over
 * 1, 2 and 4 worker processes, and one large campaign with the worker's memory sampled.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { renderOfferEmail } from '../core/emails/offer-email.ts';
import { createDb, createSql } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createPartner } from '../services/accounts/partners.ts';
import { deleteQueueKeys } from '../test/helpers/stack.ts';
import { createBenchDatabase, freePort, type Sink, spawnEntry, waitForReady } from './support.ts';

export const POOL_SIZE = 5;
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

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

/** Bare nodemailer: the same pool size, every message queued at once. */
export async function baseline(sink: Sink, n: number): Promise<Throughput> {
  const transport = nodemailer.createTransport({
    url: sink.url,
    pool: true,
    maxConnections: POOL_SIZE,
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
  postMs: number;
  /** RSS of the (first) worker process, sampled every second (MiB). */
  rss: number[];
  /** Redis memory in use right after the run, before the queue keys are deleted (MiB). */
  redisMiB: number;
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
    SEND_RATE_PER_SECOND: '0',
    MAIL_UNCONFIRMED_MAX: String(options.unconfirmedMax ?? 1),
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
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const value = rssMiB(workerPid);
      if (value !== undefined) rss.push(value);
    }, 1000);
    const pids = processes.map((p) => p.child.pid as number);
    const before = await sink.count();
    const splitBefore = cpuByGroup(pids);
    const cpuBefore = machineBusyMs();
    const started = performance.now();
    const response = await fetch(`${base}/v1/campaigns`, { method: 'POST', headers, body });
    const postMs = performance.now() - started;
    if (response.status !== 202) throw new Error(`campaign refused: ${response.status} ${await response.text()}`);
    try {
      await sink.waitFor(before + n, 3_600_000);
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
    const info = await redis.info('memory');
    const redisMiB = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20;
    return {
      recipients: n,
      perSecond: n / seconds,
      cpuMsPerMessage: cpu / n,
      postMs,
      rss,
      redisMiB,
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
