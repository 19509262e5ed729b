import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { type Service, startTsx } from '../helpers/processes.ts';
import { testServices } from '../helpers/services.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * The real `worker` entry, stopped with SIGTERM while messages are on their way: it
 * finishes what it started, exits 0, and a worker started after it sends the rest.
 */
let sink: SmtpSink;
let stack: TestStack;
let env: Record<string, string>;
const workers: Service[] = [];

beforeAll(async () => {
  sink = await startSmtpSink({ dataDelayMs: 700 });
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
  env = {
    NODE_ENV: 'test',
    DATABASE_URL: stack.database.url,
    REDIS_URL: testServices.redisUrl,
    QUEUE_PREFIX: stack.config.queuePrefix,
    SMTP_URL: sink.url,
    LINK_SECRET: stack.config.linkSecret,
    PUBLIC_URL: stack.config.publicUrl,
    MAIL_CONCURRENCY: '3',
    SMTP_POOL_SIZE: '3',
    SEND_RATE_PER_SECOND: '0',
    SHUTDOWN_GRACE_MS: '20000',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
  };
});
afterAll(async () => {
  for (const w of workers) await w.stop('SIGKILL');
  await stack.close();
  await sink.close();
});

describe('SIGTERM during a campaign', () => {
  it('finishes the sends in flight, exits 0, and the next worker resumes', async () => {
    const { token } = await createTestPartner(stack);
    const offer = await createTestOffer(stack, token);
    const recipients = Array.from({ length: 12 }, (_, i) => ({
      email: `r${i}-${randomBytes(2).toString('hex')}@client.example`,
    }));
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients },
    });
    const { id } = (await response.json()) as { id: string };

    const first = startTsx('bin/worker.ts', env);
    workers.push(first);
    await waitFor(async () => sink.receiving > 0, 30_000);
    const code = await first.stop('SIGTERM');
    expect(code, first.output()).toBe(0);

    // Everything the first worker handed to the server was recorded as sent.
    const offeredNow = (
      await stack.deps.sql`select count(*)::int as n from delegations where campaign_id = ${id} and state = 'offered'`
    )[0]?.n;
    expect(offeredNow).toBeGreaterThan(0);
    expect(sink.messages.length).toBe(offeredNow);

    const second = startTsx('bin/worker.ts', env);
    workers.push(second);
    await waitFor(async () => {
      const [row] = await stack.deps
        .sql`select count(*)::int as n from delegations where campaign_id = ${id} and state = 'offered'`;
      return row?.n === 12;
    }, 60_000);
    const perRecipient = new Map<string, number>();
    for (const m of sink.messages) for (const to of m.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    expect(perRecipient.size).toBe(12);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
  });
});
