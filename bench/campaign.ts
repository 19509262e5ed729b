/**
 * Campaign throughput: N recipients through `POST /v1/campaigns` until the SMTP sink has
 * every message, against bare nodemailer sending N messages with the same pool settings
 * to the same sink, in the same run. Run with `npm run bench` (or `tsx bench/campaign.ts`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import nodemailer from 'nodemailer';
import { renderOfferEmail } from '../core/emails/offer-email.ts';
import { createDb, createSql } from '../db/client.ts';
import { createPartner } from '../services/partners.ts';
import { deleteQueueKeys } from '../test/helpers/stack.ts';
import { createBenchDatabase, root, type Sink } from './support.ts';

const POOL_SIZE = 5;

export interface CampaignResult {
  recipients: number;
  baselinePerSecond: number;
  /** With MAIL_UNCONFIRMED_MAX=1 (at most one duplicate per crash, the default). */
  mandatePerSecond: number;
  /** With MAIL_UNCONFIRMED_MAX=5 (at most five duplicates per crash). */
  mandateLooserPerSecond: number;
  postMs: number;
  ratio: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sampleEmail = renderOfferEmail({
  partnerName: 'Bench Partner',
  access: 'limited',
  durationDays: 730,
  autoExtend: true,
  link: `http://127.0.0.1/offers/${'x'.repeat(43)}`,
  recipientName: null,
  recipientCompany: null,
  offerExpiresAt: new Date(),
});

/** Bare nodemailer: the same pool size, every message queued at once. */
async function baseline(sink: Sink, n: number): Promise<number> {
  const transport = nodemailer.createTransport({
    url: sink.url,
    pool: true,
    maxConnections: POOL_SIZE,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  const before = await sink.count();
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
  transport.close();
  return n / seconds;
}

async function waitForReady(url: string, output: () => string) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Mandate did not start:\n${output()}`);
}

/** Mandate: `npm start` (API and workers in one process), one campaign of n recipients. */
async function mandate(sink: Sink, n: number, unconfirmedMax: number): Promise<{ perSecond: number; postMs: number }> {
  const database = await createBenchDatabase();
  const port = await freePort();
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    SMTP_URL: sink.url,
    SMTP_POOL_SIZE: String(POOL_SIZE),
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LINK_SECRET: randomBytes(32).toString('hex'),
    SEND_RATE_PER_SECOND: '0',
    MAIL_UNCONFIRMED_MAX: String(unconfirmedMax),
    LOG_LEVEL: 'warn',
  };
  // BENCH_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=prof`, profiles the process under test.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'start.ts'], { cwd: root, env });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(`${base}/readyz`, () => output);
    const sql = createSql(database.url, { max: 1 });
    const { token } = await createPartner(createDb(sql), { name: 'Bench Partner', ownerEmail: 'owner@bench.example' });
    await sql.end();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const offer = (await (
      await fetch(`${base}/v1/offers`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'Bench', access: 'limited' }),
      })
    ).json()) as { id: string };
    const body = JSON.stringify({
      offerId: offer.id,
      recipients: Array.from({ length: n }, (_, i) => ({ email: `r${i}@client.example` })),
    });
    const before = await sink.count();
    const started = performance.now();
    const response = await fetch(`${base}/v1/campaigns`, { method: 'POST', headers, body });
    const postMs = performance.now() - started;
    if (response.status !== 202) throw new Error(`campaign refused: ${response.status} ${await response.text()}`);
    await sink.waitFor(before + n, 1_800_000);
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: n / seconds, postMs };
  } finally {
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    await deleteQueueKeys(prefix);
    await database.drop();
  }
}

export async function benchCampaign(sink: Sink, n: number): Promise<CampaignResult> {
  // Warm the sink and the TCP stack so neither side pays for first connections.
  await baseline(sink, Math.min(500, n));
  const baselinePerSecond = await baseline(sink, n);
  const { perSecond, postMs } = await mandate(sink, n, 1);
  const looser = await mandate(sink, n, 5);
  return {
    recipients: n,
    baselinePerSecond,
    mandatePerSecond: perSecond,
    mandateLooserPerSecond: looser.perSecond,
    postMs,
    ratio: perSecond / baselinePerSecond,
  };
}
