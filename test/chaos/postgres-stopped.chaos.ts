import { expect, it } from 'vitest';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.ts';
import { chaosWorld, recordCampaign, report, tally, waitUntilDelivered, waitUntilSent } from './harness.ts';

/**
 * The PostgreSQL server stopped for 10 s mid-campaign and started again (a fast shutdown:
 * sessions ended, a checkpoint), under two worker processes. The server is the test's own
 * (test/helpers/private-postgres.ts). Counted from what the SMTP server received: nothing
 * lost, at most K (MAIL_UNCONFIRMED_MAX) duplicates per worker process — a message whose
 * record could not be written while the server was away. The workers live through it.
 */
const RECIPIENTS = 2000;
const WORKERS = 2;
const K = 8;
const DOWN_MS = 10_000;

let server: PrivatePostgres | undefined;
const world = chaosWorld({
  before: async () => {
    server = await startPrivatePostgres();
  },
  database: () => (server as PrivatePostgres).createDatabase(),
  after: async () => {
    await server?.close();
  },
});

it('PostgreSQL stopped 10 s mid-campaign and started again: nothing lost, at most K duplicates per worker', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, RECIPIENTS, 'pgstop');
  const workers = Array.from({ length: WORKERS }, () => world.worker({ MAIL_UNCONFIRMED_MAX: String(K) }));
  await waitUntilDelivered(sink, emails, 500, 90_000);
  const atStop = tally(sink, emails).delivered;
  await server?.restart({ mode: 'fast', downMs: DOWN_MS });
  const atStart = tally(sink, emails).delivered;
  const counts = await waitUntilSent(stack, campaignId, 180_000);
  const t = tally(sink, emails);
  const states = Object.entries(counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length;
  report(
    `PostgreSQL stopped ${DOWN_MS / 1000} s and started again, ${WORKERS} workers, K=${K} (${atStop} in at the stop, ${atStart - atStop} more while down; ${states}; ${alive} of ${WORKERS} workers alive), ${RECIPIENTS} recipients`,
    t,
    started,
  );
  for (const w of workers) expect(w.child.exitCode, w.output().slice(-4000)).toBeNull();
  expect(counts.offered).toBe(RECIPIENTS);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(K * WORKERS);
}, 300_000);
