import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Service } from '../helpers/processes.ts';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';
import { recordCampaign, report, startWorker, tally, waitUntilDelivered, waitUntilSent, workerEnv } from './harness.ts';

let stack: TestStack;
let sink: SmtpSink;
let redis: PrivateRedis;
const workers: Service[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  // A Redis of this file's own: FLUSHALL must not touch other suites' queues.
  redis = await startPrivateRedis();
  stack = await createTestStack({ env: { SMTP_URL: sink.url, REDIS_URL: redis.url } });
});
afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await stack.close();
  await sink.close();
  await redis.stop();
});

it('FLUSHALL mid-campaign: the reconciler finishes it, nothing lost', async () => {
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'flush');
  const worker = startWorker(workerEnv(stack, sink));
  workers.push(worker);
  await waitUntilDelivered(sink, emails, 300);
  const admin = new Redis(redis.url);
  await admin.flushall();
  admin.disconnect();
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('FLUSHALL mid-campaign, 2000 recipients', t, started);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
});
