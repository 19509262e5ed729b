import { expect, it } from 'vitest';
import { waitFor } from '../helpers/factories.ts';
import { chaosWorld, report } from './harness.ts';
import { recordOperations, tallyOperations, temporaryPasswords, waitUntilOperationsDone } from './operations-tally.ts';

const world = chaosWorld({});

const N = 100; // of each kind

it('kill -9 of the worker three times during 200 provision-user and reset-password operations: one password each, set once', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const recorded = await recordOperations(stack, N, 'chaos');

  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = world.worker();
    await waitFor(async () => temporaryPasswords(sink, recorded.prefix).length >= 40 * (k + 1), 60_000);
    await worker.stop('SIGKILL');
  }
  const last = world.worker();
  await waitUntilOperationsDone(stack, 120_000, last);

  const t = await tallyOperations(stack, sink, recorded);
  report('kill -9 worker ×3, 200 provision-user + reset-password (passwords)', t.passwords, started);
  report('kill -9 worker ×3, 200 provision-user + reset-password (emails)', t.emails, started);
  expect(t.accounts).toBe(recorded.asked);
  expect(t.passwords.lost).toBe(0);
  expect(t.passwords.duplicates).toBe(0);
  // The same message again, at most once per kill (lib/mailer.ts's sendAndRecord).
  expect(t.emails.duplicates).toBeLessThanOrEqual(kills);
});
