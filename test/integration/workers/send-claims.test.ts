import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableSendError } from '../../../core/smtp-outcome.ts';
import { createMailer } from '../../../lib/mailer.ts';
import { sendOffer } from '../../../services/campaigns/send-offer.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;
let token: string;
let offerId: string;

beforeAll(async () => {
  // The first two MAIL FROM are refused with 553, as by a relay that does not (yet) accept our sender.
  sink = await startSmtpSink({
    mailFromRule: (n) => (n <= 2 ? { code: 553, message: '5.7.1 Sender not allowed' } : undefined),
  });
  stack = await createTestStack({ env: { SMTP_URL: sink.url, MAIL_BACKOFF_MS: '100', MAIL_ATTEMPTS: '5' } });
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token)).id;
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

async function delegationFor(email: string): Promise<string> {
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, recipients: [{ email }] },
  });
  const { id } = (await response.json()) as { id: string };
  const [row] = await stack.deps.sql`select id from delegations where campaign_id = ${id}`;
  return row?.id as string;
}

describe('sending is claimed', () => {
  it('a sender refused by the relay is a platform fault: retried, not a failed recipient', async () => {
    const id = await delegationFor('patient@x.example');
    await stack.startWorkers();
    await waitFor(
      async () => (await stack.deps.sql`select state from delegations where id = ${id}`)[0]?.state === 'offered',
    );
    const [row] = await stack.deps.sql`select send_attempts, send_lease_until from delegations where id = ${id}`;
    expect(row?.send_attempts).toBe(3);
    expect(row?.send_lease_until).toBeNull();
  });

  it('two runs of the same send at once deliver one email', async () => {
    await stack.workers?.close();
    stack.workers = undefined;
    const id = await delegationFor('once@x.example');
    const mailer = createMailer(stack.config);
    try {
      const deps = { db: stack.deps.db, config: stack.config, mailer, logger: stack.deps.logger };
      const results = await Promise.allSettled([
        sendOffer(deps, id, { isFinalAttempt: false }),
        sendOffer(deps, id, { isFinalAttempt: false }),
      ]);
      const sent = results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'sent');
      const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof RetryableSendError);
      expect(sent).toHaveLength(1);
      expect(busy).toHaveLength(1);
      expect(sink.messages.filter((m) => m.to.includes('once@x.example'))).toHaveLength(1);
      // The run that lost the claim, retried later, finds the work done.
      expect(await sendOffer(deps, id, { isFinalAttempt: false })).toEqual({ outcome: 'skipped', state: 'offered' });
    } finally {
      mailer.close();
    }
  });

  it('an interrupted send is resent once; after a second interruption it is assumed sent', async () => {
    const id = await delegationFor('interrupted@x.example');
    const mailer = createMailer(stack.config);
    try {
      const deps = { db: stack.deps.db, config: stack.config, mailer, logger: stack.deps.logger };
      // An attempt died in doubt (its end of data may have gone out, nothing was recorded).
      await stack.deps
        .sql`update delegations set send_attempts = 1, send_in_doubt = true, send_lease_until = now() - interval '1 second' where id = ${id}`;
      const before = sink.messages.length;
      expect((await sendOffer(deps, id, { isFinalAttempt: false })).outcome).toBe('sent');
      expect(sink.messages.length - before).toBe(1);
      expect((await stack.deps.sql`select uncertain_sends from delegations where id = ${id}`)[0]?.uncertain_sends).toBe(
        1,
      );

      // The same again, a second time: no third copy.
      const other = await delegationFor('interrupted-twice@x.example');
      await stack.deps
        .sql`update delegations set send_attempts = 2, uncertain_sends = 1, send_in_doubt = true, send_lease_until = now() - interval '1 second' where id = ${other}`;
      const beforeSecond = sink.messages.length;
      expect(await sendOffer(deps, other, { isFinalAttempt: false })).toEqual({ outcome: 'skipped', state: 'offered' });
      expect(sink.messages.length).toBe(beforeSecond);
      const [event] = await stack.deps
        .sql`select detail from delegation_events where delegation_id = ${other} and event = 'send_succeeded'`;
      expect(event?.detail).toMatchObject({ assumed: true });
    } finally {
      mailer.close();
    }
  });
});
