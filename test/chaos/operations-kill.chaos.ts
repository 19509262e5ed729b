import { expect, it } from 'vitest';
import { waitFor } from '../helpers/factories.ts';
import { chaosWorld, report, unconfirmedMax } from './harness.ts';
import { recordOperations, tallyOperations, temporaryPasswords, waitUntilOperationsDone } from './operations-tally.ts';

const world = chaosWorld({});

const N = 500; // of each kind

it('kill -9 of the worker three times during 500 provision-user and 500 reset-password operations: one password each, set once', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const recorded = await recordOperations(stack, N, 'kill');

  const kills = 3;
  for (let k = 0; k < kills; k++) {
    const worker = world.worker();
    await waitFor(async () => temporaryPasswords(sink, 'kill').length >= 200 * (k + 1), 90_000);
    await worker.stop('SIGKILL');
  }
  const last = world.worker();
  // Waiting on the operations' state; what is counted is what the server and the users have.
  await waitUntilOperationsDone(stack, 180_000, last);

  const { passwords, emails, accounts } = await tallyOperations(stack, sink, recorded);
  report('kill -9 worker ×3, 500 provision-user + 500 reset-password (passwords)', passwords, started);
  report('kill -9 worker ×3, 500 provision-user + 500 reset-password (emails)', emails, started);
  expect(accounts).toBe(recorded.asked);
  expect(passwords.lost).toBe(0);
  expect(passwords.duplicates).toBe(0);
  expect(emails.lost).toBe(0);
  // The same message again, at most once per kill (lib/mailer.ts's sendAndRecord).
  expect(emails.duplicates).toBeLessThanOrEqual(kills * unconfirmedMax(world.env()));
}, 360_000);
