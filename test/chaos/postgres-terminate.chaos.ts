import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Service } from '../helpers/processes.ts';
import { testServices } from '../helpers/services.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';
import { recordCampaign, report, startWorker, tally, waitUntilDelivered, waitUntilSent, workerEnv } from './harness.ts';

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

it('PostgreSQL connections terminated mid-run: jobs retry, no recipient recorded as sent without its email', async () => {
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'pgkill');
  workers.push(startWorker(workerEnv(stack, sink)));
  const admin = postgres(testServices.postgresUrl, { max: 1, onnotice: () => {} });
  try {
    for (const threshold of [300, 700, 1100]) {
      await waitUntilDelivered(sink, emails, threshold);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = ${stack.database.name} and pid <> pg_backend_pid()`;
    }
  } finally {
    await admin.end();
  }
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('pg_terminate_backend ×3, 2000 recipients', t, started);
  // Every row marked offered has its email at the sink.
  const offered = (
    await stack.deps
      .sql`select recipient_email from delegations where campaign_id = ${campaignId} and state = 'offered'`
  ).map((r) => r.recipient_email as string);
  const received = new Set(sink.messages.flatMap((m) => m.to));
  expect(offered.filter((e) => !received.has(e))).toEqual([]);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
});
