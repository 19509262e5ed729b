import { expect, it } from 'vitest';
import { chaosWorld, recordCampaign, report, tally, waitUntilSent } from './harness.ts';

const world = chaosWorld({ sink: { dataDelayMs: 5 } });

it('two workers holding the same job at once (as after a lost lock): one email, one recorded effect', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 500, 'race');
  // Every send twice more, under other job ids: as if BullMQ had handed the same work to
  // two workers after a lock lapsed.
  const rows = await stack.deps.sql`select id from delegations where campaign_id = ${campaignId}`;
  const mail = stack.deps.queues.queue('mail');
  for (const copy of ['a', 'b']) {
    await mail.addBulk(
      rows.map((r) => ({ name: 'send-offer', data: { delegationId: r.id }, opts: { jobId: `race-${copy}.${r.id}` } })),
    );
  }
  world.worker();
  world.worker();
  const counts = await waitUntilSent(stack, campaignId, 120_000);
  const t = tally(sink, emails);
  report('two workers racing on every job, 500 recipients', t, started);
  expect(counts.offered).toBe(500);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
  const events = await stack.deps.sql`
    select count(*)::int as n from delegation_events e join delegations d on d.id = e.delegation_id
    where d.campaign_id = ${campaignId} and e.event = 'send_succeeded'`;
  expect(events[0]?.n).toBe(500);
});
