import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSignup } from '../../../services/accounts/signups.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

// A campaign long enough to be still sending when the confirmation is asked for (about
// 20 s at this rate), short enough to keep the file quick.
const RECIPIENTS = 2000;
const RATE = 100;

describe.each(['redis', 'postgres'] as const)('transactional mail during a campaign (%s queues)', (backend) => {
  let stack: TestStack;
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink();
    stack = await createTestStack({
      env: {
        SMTP_URL: sink.url,
        QUEUE_BACKEND: backend,
        SEND_RATE_PER_SECOND: String(RATE),
        // The default: transactional mail has its own limit, not none.
        TRANSACTIONAL_SEND_RATE_PER_SECOND: '20',
      },
      workers: true,
    });
  });
  afterAll(async () => {
    await stack?.close();
    await sink?.close();
  });

  it("a sign-up confirmation reaches the mail server within seconds, not after partner A's campaign", async () => {
    const { token } = await createTestPartner(stack, 'Partner A');
    const offer = await createTestOffer(stack, token);
    const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `r${i}@client-a.example`, name: 'Pat' }));
    const created = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients },
    });
    expect(created.status).toBe(202);
    // A's campaign is under way: its messages arrive at the send rate.
    await sink.waitForMessages(RATE);

    const requestedAt = Date.now();
    await startSignup(stack.deps, {
      orgName: 'Newcomer',
      adminName: 'Sam',
      email: 'sam@newcomer.example',
      password: 'correct horse battery staple',
      returnTo: '/',
    });
    const at = await waitFor(async () => {
      const index = sink.messages.findIndex((m) => m.to.includes('sam@newcomer.example'));
      return index >= 0 ? index + 1 : false;
    }, 30_000);
    const confirmation = sink.messages[at - 1];
    const campaignBefore = sink.messages.slice(0, at).filter((m) => m.to[0]?.endsWith('@client-a.example')).length;

    expect(confirmation?.subject).toMatch(/confirm/i);
    // Within a few seconds of the request, while most of A's campaign was still to go.
    expect((confirmation?.receivedAt ?? Number.POSITIVE_INFINITY) - requestedAt).toBeLessThan(3000);
    expect(RECIPIENTS - campaignBefore).toBeGreaterThan(RECIPIENTS / 2);
  });
});
