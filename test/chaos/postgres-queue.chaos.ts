import { expect, it } from 'vitest';
import { waitFor } from '../helpers/factories.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.ts';
import {
  chaosWorld,
  recordCampaign,
  report,
  tally,
  unconfirmedMax,
  waitUntilDelivered,
  waitUntilSent,
} from './harness.ts';
import { recordOperations, tallyOperations, temporaryPasswords, waitUntilOperationsDone } from './operations-tally.ts';

/*
 * The fault suite's kill -9 and restart scenarios with the queues on PostgreSQL
 * (QUEUE_BACKEND=postgres, BullMQ's tables in the same database as Mandate's): on a
 * private server, which the restart scenario stops and crashes.
 */
let server: PrivatePostgres;
const world = chaosWorld({
  before: async () => {
    server = await startPrivatePostgres();
  },
  database: () => server.createDatabase({ queueBackend: 'postgres' }),
  stackEnv: () => ({ QUEUE_BACKEND: 'postgres' }),
  after: () => server.close(),
});

/** The worker processes connected to the queue tables now (by their pool's application name). */
async function queueWorkerConnections(): Promise<number> {
  const [row] = await world.stack.deps.sql`
    select count(*)::int as n from pg_stat_activity where application_name = 'mandate-queue-worker'`;
  return row?.n ?? 0;
}

it('kill -9 of the worker three times during a 1,000-recipient campaign: nothing lost, at most one duplicate per kill', async () => {
  const { stack, sink } = world;
  expect(stack.config.queueBackend).toBe('postgres');
  expect(world.env().QUEUE_BACKEND).toBe('postgres');
  const started = Date.now();
  const { campaignId, emails } = await recordCampaign(stack, 1000, 'pgq-kill');
  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = world.worker();
    await waitUntilDelivered(sink, emails, 150 * (k + 1), 60_000).catch((error) => {
      console.log(`kill ${k + 1}: ${tally(sink, emails).delivered} delivered`, worker.output().slice(-3000));
      throw error;
    });
    // Its queue is on PostgreSQL: it holds connections as the queue's worker.
    if (k === 0) expect(await queueWorkerConnections()).toBeGreaterThan(0);
    await worker.stop('SIGKILL');
  }
  const last = world.worker();
  const counts = await waitUntilSent(stack, campaignId, 90_000);
  const t = tally(sink, emails);
  report('postgres queue: kill -9 worker ×3, 1000 recipients', t, started);
  await last.stop('SIGKILL');
  expect(counts.offered).toBe(1000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(kills * unconfirmedMax(world.env()));
});

it('kill -9 of the worker three times during 200 provision-user and reset-password operations: one password each, set once', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const recorded = await recordOperations(stack, 100, 'pgq-ops');
  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = world.worker();
    await waitFor(async () => temporaryPasswords(sink, recorded.prefix).length >= 40 * (k + 1), 60_000);
    await worker.stop('SIGKILL');
  }
  const last = world.worker();
  await waitUntilOperationsDone(stack, 90_000, last);
  const t = await tallyOperations(stack, sink, recorded);
  report('postgres queue: kill -9 worker ×3, 200 operations (passwords)', t.passwords, started);
  report('postgres queue: kill -9 worker ×3, 200 operations (emails)', t.emails, started);
  await last.stop('SIGKILL');
  expect(t.accounts).toBe(recorded.asked);
  expect(t.passwords.lost).toBe(0);
  expect(t.passwords.duplicates).toBe(0);
  expect(t.emails.duplicates).toBeLessThanOrEqual(kills * unconfirmedMax(world.env()));
});

it('PostgreSQL crashed and restarted twice (down 3 s each) mid-campaign and mid-operations: the worker survives, resumes, nothing lost', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const campaign = await recordCampaign(stack, 1000, 'pgq-restart');
  const operations = await recordOperations(stack, 50, 'pgq-restart-ops');
  const worker = world.worker();
  const restarts = 2;
  for (let r = 0; r < restarts; r++) {
    await waitUntilDelivered(sink, campaign.emails, 200 + 300 * r, 60_000);
    // SIGQUIT to the server: no checkpoint, crash recovery when it starts again.
    await server.restart({ mode: 'immediate', downMs: 3000 });
  }
  const counts = await waitUntilSent(stack, campaign.campaignId, 90_000).catch((error) => {
    console.log(worker.output().slice(-3000));
    throw error;
  });
  await waitUntilOperationsDone(stack, 60_000, worker);
  const t = tally(sink, campaign.emails);
  const ops = await tallyOperations(stack, sink, operations);
  report(`postgres queue: server crashed ×${restarts}, 1000 recipients`, t, started);
  report(`postgres queue: server crashed ×${restarts}, 100 operations (passwords)`, ops.passwords, started);
  report(`postgres queue: server crashed ×${restarts}, 100 operations (emails)`, ops.emails, started);
  // The same process did it all: it was never restarted.
  expect(worker.child.exitCode).toBeNull();
  expect(worker.child.signalCode).toBeNull();
  expect(counts.offered).toBe(1000);
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBeLessThanOrEqual(restarts * unconfirmedMax(world.env()));
  expect(ops.accounts).toBe(operations.asked);
  expect(ops.passwords.lost).toBe(0);
  expect(ops.passwords.duplicates).toBe(0);
  expect(ops.emails.duplicates).toBeLessThanOrEqual(restarts * unconfirmedMax(world.env()));
});
