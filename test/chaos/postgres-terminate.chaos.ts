import postgres from 'postgres';
import { expect, it } from 'vitest';
import { testServices } from '../helpers/services.ts';
import { chaosWorld, recordCampaign, report, tally, waitUntilDelivered, waitUntilSent } from './harness.ts';

const world = chaosWorld({});

it('PostgreSQL connections terminated mid-run: jobs retry, no recipient recorded as sent without its email', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'pgkill');
  world.worker();
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
