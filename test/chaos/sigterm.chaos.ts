import { expect, it } from 'vitest';
import {
  chaosWorld,
  recordCampaign,
  report,
  stateCounts,
  tally,
  waitUntilDelivered,
  waitUntilSent,
} from './harness.ts';

const world = chaosWorld({ sink: { dataDelayMs: 2 } });

it('SIGTERM during a campaign: sends in flight finish, exit code 0, the next worker resumes', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'term');
  const first = world.worker();
  await waitUntilDelivered(sink, emails, 400);
  expect(await first.stop('SIGTERM')).toBe(0);
  // Stopped cleanly: everything it sent is recorded, nothing is half-done.
  const afterStop = await stateCounts(stack, campaignId);
  expect(tally(sink, emails).delivered).toBe(afterStop.offered);
  world.worker();
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('SIGTERM mid-campaign then restart, 2000 recipients', t, started);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
});
