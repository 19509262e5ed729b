import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Service } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';
import {
  recordCampaign,
  report,
  sleep,
  startWorker,
  tally,
  waitUntilDelivered,
  waitUntilSent,
  workerEnv,
} from './harness.ts';

let stack: TestStack;
let sink: SmtpSink;
const workers: Service[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
});
afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await stack.close();
  await sink.close();
});

it('kill -9 of the worker three times during a 2,000-recipient campaign: nothing lost, at most one duplicate per kill', async () => {
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'kill');
  const env = workerEnv(stack, sink);
  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = startWorker(env);
    workers.push(worker);
    // Let it get going, then kill it mid-send.
    await waitUntilDelivered(sink, emails, 150 * (k + 1), 60_000);
    await worker.stop('SIGKILL');
  }
  const last = startWorker(env);
  workers.push(last);
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('kill -9 worker ×3, 2000 recipients', t, started);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(kills);
  await sleep(0);
});
