import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Service } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';
import {
  recordCampaign,
  report,
  startWorker,
  stateCounts,
  tally,
  waitUntilDelivered,
  waitUntilSent,
  workerEnv,
} from './harness.ts';

let stack: TestStack;
let sink: SmtpSink;
const workers: Service[] = [];

beforeAll(async () => {
  sink = await startSmtpSink({ dataDelayMs: 2 });
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
});
afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await stack.close();
  await sink.close();
});

it('SIGTERM during a campaign: sends in flight finish, exit code 0, the next worker resumes', async () => {
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'term');
  const env = workerEnv(stack, sink);
  const first = startWorker(env);
  workers.push(first);
  await waitUntilDelivered(sink, emails, 400);
  expect(await first.stop('SIGTERM')).toBe(0);
  // Stopped cleanly: everything it sent is recorded, nothing is half-done.
  const afterStop = await stateCounts(stack, campaignId);
  expect(tally(sink, emails).delivered).toBe(afterStop.offered);
  workers.push(startWorker(env));
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('SIGTERM mid-campaign then restart, 2000 recipients', t, started);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
});
