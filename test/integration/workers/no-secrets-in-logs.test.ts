import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.ts';
import { delegationLinkToken } from '../../../lib/secrets.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** Everything the app logs at trace level, while a partner, an offer and a campaign go through. */
let lines = '';
let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink({ rule: (a) => (a.startsWith('bounce') ? { code: 550, message: 'no' } : undefined) });
  const capture = new Writable({
    write(chunk, _encoding, done) {
      lines += chunk.toString();
      done();
    },
  });
  // The app's own logger (its redaction and error serializer), writing here.
  const logger = createLogger({ logLevel: 'trace', logPretty: false }, capture);
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, logger, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

describe('logs', () => {
  it('never contain a password, an API token or an offer link token', async () => {
    const partner = await createTestPartner(stack);
    const offer = await createTestOffer(stack, partner.token);
    const offerToken = offer.url.split('/').pop() as string;
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: partner.token,
      json: { offerId: offer.id, recipients: [{ email: 'a@x.example' }, { email: 'bounce@x.example' }] },
    });
    const { id } = (await response.json()) as { id: string };
    // A bad request and a 401 are logged too.
    await stack.request('/v1/offers', { method: 'POST', token: partner.token, json: { name: partner.password } });
    await stack.request('/v1/offers', { headers: { authorization: `Bearer ${partner.token}x` } });
    const rows = await waitFor(async () => {
      const found = await stack.deps.sql`select id, state from delegations where campaign_id = ${id}`;
      return found.every((r) => r.state !== 'invited') ? found : undefined;
    });

    expect(lines).toContain('"msg":"request"');
    expect(lines).toContain('offer email failed for good');
    const secrets = [
      partner.password,
      partner.token,
      offerToken,
      ...rows.map((r) => delegationLinkToken(stack.config.linkSecret, r.id as string)),
      stack.config.linkSecret,
    ];
    for (const secret of secrets) expect(lines).not.toContain(secret);
  });
});
