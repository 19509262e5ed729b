import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The API records a campaign while Redis is unreachable: the request still succeeds
 * (the work is safe in PostgreSQL), and workers started later send it.
 */
let sink: SmtpSink;
let offline: TestStack;
let online: TestStack | undefined;

beforeAll(async () => {
  sink = await startSmtpSink();
  offline = await createTestStack({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
});
afterAll(async () => {
  await online?.close();
  await offline.close();
  await sink.close();
});

describe('Redis unreachable when a campaign is recorded', () => {
  it('answers 202, and the campaign is sent once workers run', async () => {
    const { token } = await createTestPartner(offline);
    const offer = await createTestOffer(offline, token);
    const started = Date.now();
    const response = await offline.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients: [{ email: 'one@x.example' }, { email: 'two@x.example' }] },
    });
    expect(response.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(15_000);
    const { id } = (await response.json()) as { id: string };

    online = await createTestStack({ database: offline.database, env: { SMTP_URL: sink.url }, workers: true });
    const sql = online.deps.sql;
    await waitFor(async () => {
      const [row] =
        await sql`select count(*)::int as n from delegations where campaign_id = ${id} and state = 'offered'`;
      return row?.n === 2;
    });
    expect(sink.messages.map((m) => m.to[0]).sort()).toEqual(['one@x.example', 'two@x.example']);
  });
});
