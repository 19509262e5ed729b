import { Writable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../../db/migrate.ts';
import { createLogger } from '../../../lib/logger.ts';
import { enqueueEmails, recordEmails } from '../../../services/mail/outbox.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A stuck lock or query must not hold a request or a worker forever: each pool has a
 * lock_timeout and a statement_timeout (small here), and hitting one is a clear, retryable
 * DATABASE_TIMEOUT — a 503 from the API, a retry in the workers.
 */
let stack: TestStack;
let sink: SmtpSink;
/** Another session, as a stuck transaction elsewhere would be. */
let other: postgres.Sql;
/** What the app logs at warn and above. */
let lines = '';

beforeAll(async () => {
  sink = await startSmtpSink();
  const capture = new Writable({
    write(chunk, _encoding, done) {
      lines += chunk.toString();
      done();
    },
  });
  stack = await createTestStack({
    logger: createLogger({ logLevel: 'warn', logPretty: false }, capture),
    env: {
      SMTP_URL: sink.url,
      DATABASE_API_LOCK_TIMEOUT_MS: '300',
      // The statement timeout is met first: it counts the wait for the lock too.
      DATABASE_WORKER_STATEMENT_TIMEOUT_MS: '300',
      DATABASE_WORKER_LOCK_TIMEOUT_MS: '10000',
    },
  });
  other = postgres(stack.database.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await other.end({ timeout: 1 });
  await stack.close();
  await sink.close();
});

/** Holds `lockSql` in a transaction of the other session until the returned release is called. */
async function holdLock(lockSql: (tx: postgres.TransactionSql) => Promise<unknown>): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const transaction = other.begin(async (tx) => {
    await lockSql(tx);
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await transaction;
  };
}

describe('database timeouts', () => {
  it('an API request blocked by a row lock answers 503 DATABASE_TIMEOUT within the lock timeout', async () => {
    const { token } = await createTestPartner(stack);
    const offer = await createTestOffer(stack, token);
    const release = await holdLock((tx) => tx`select id from offers where id = ${offer.id} for update`);
    try {
      const started = Date.now();
      const answer = await Promise.race([
        stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token }),
        new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
      ]);
      expect(answer).not.toBe('still waiting');
      const response = answer as Response;
      expect(Date.now() - started).toBeLessThan(3000);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ code: 'DATABASE_TIMEOUT', status: 503 });
      expect(response.headers.get('retry-after')).toBe('1');
      expect(lines).toContain("request stopped by the database's lock timeout");
    } finally {
      await release();
    }
    // Once the lock is gone, the same request goes through.
    expect((await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token })).status).toBe(200);
  });

  it('a worker job that hits the statement timeout fails and is retried', async () => {
    const to = 'stuck@x.example';
    const [id] = await recordEmails(stack.deps.db, 'mandate.test', [
      { dedupeKey: `test.stuck.${to}`, kind: 'test', toEmail: to, content: { subject: 'Hi', text: 'x', html: 'x' } },
    ]);
    const emailId = id as string;
    const release = await holdLock((tx) => tx`select id from emails where id = ${emailId} for update`);
    const failures: string[] = [];
    try {
      const running = await stack.startWorkers();
      for (const worker of running.workers) worker.on('failed', (_job, error) => failures.push(error.message));
      await enqueueEmails(stack.deps, [emailId]);
      // The claim waits on the lock until the statement timeout cancels it: the job fails.
      await waitFor(async () => failures.length > 0, 10_000);
    } finally {
      await release();
    }
    expect(failures[0]).toMatch(/^DATABASE_TIMEOUT: a query was stopped by the statement timeout/);
    expect(lines).toContain("job stopped by the database's statement timeout; will retry");
    // The retry, with the lock gone, sends it.
    await sink.waitForMessages(1, 20_000);
    await waitFor(
      async () => (await stack.deps.sql`select state from emails where id = ${emailId}`)[0]?.state === 'sent',
    );
  });

  it("a migration waits for another process's migration past its own lock timeout", async () => {
    // Another process migrating holds the advisory lock for longer than the lock timeout.
    const release = await holdLock(async (tx) => {
      await tx`select pg_advisory_xact_lock(727001)`;
    });
    const migrating = migrateDatabase(stack.database.url, undefined, { timeouts: { statementMs: 0, lockMs: 200 } });
    await new Promise((r) => setTimeout(r, 1000));
    await release();
    await expect(migrating).resolves.toBeUndefined();
  });
});
