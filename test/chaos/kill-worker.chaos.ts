import { expect, it } from 'vitest';
import {
  chaosWorld,
  recordCampaign,
  report,
  tally,
  unconfirmedMax,
  waitUntilDelivered,
  waitUntilSent,
} from './harness.ts';

const world = chaosWorld({});

it('kill -9 of the worker three times during a 2,000-recipient campaign: nothing lost, at most K duplicates per kill', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 2000, 'kill');
  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = world.worker();
    // Let it get going, then kill it mid-send.
    await waitUntilDelivered(sink, emails, 150 * (k + 1), 60_000);
    await worker.stop('SIGKILL');
  }
  world.worker();
  const counts = await waitUntilSent(stack, campaignId, 150_000);
  const t = tally(sink, emails);
  report('kill -9 worker ×3, 2000 recipients', t, started);
  expect(counts.offered).toBe(2000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(kills * unconfirmedMax(world.env()));
});
