import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOUNCED_REASON } from '../../services/campaigns/bounces.ts';
import { type BouncingRelay, startBouncingRelay } from '../helpers/bouncing-relay.ts';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

// Mandate → a relay that answers 250 at once → the final server, which refuses some
// recipients; the relay then reports each refusal to the bounce listener, as Postfix does.
let stack: TestStack;
let finalServer: SmtpSink;
let relay: BouncingRelay;
let listenerPort = 0;

beforeAll(async () => {
  finalServer = await startSmtpSink({
    rule: (address) =>
      address.startsWith('refused-') ? { code: 550, message: '5.1.1 <mailbox> User unknown' } : undefined,
  });
  relay = await startBouncingRelay({ finalServer: finalServer.url, bounceTo: () => listenerPort });
  stack = await createTestStack({
    env: {
      SMTP_URL: relay.url,
      MAIL_BOUNCE_DOMAIN: 'bounces.mandate.test',
      BOUNCE_SMTP_PORT: String(await freePort()),
      BOUNCE_SMTP_HOST: '127.0.0.1',
    },
  });
  listenerPort = (await stack.startWorkers()).bounceListener?.port as number;
});
afterAll(async () => {
  await stack.close();
  await relay.close();
  await finalServer.close();
});

describe('a campaign through a relay, with bounces that come back later', () => {
  it('of 60 recipients, the 6 the final server refused become failed with its reply; the 54 others stay offered', async () => {
    const { token } = await createTestPartner(stack);
    const offer = await createTestOffer(stack, token);
    const emails = Array.from({ length: 60 }, (_, i) => `${i % 10 === 3 ? 'refused' : 'pat'}-${i}@client.example`);
    const created = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients: emails.map((email) => ({ email })) },
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    await waitFor(async () => relay.reports.length === 6 && relay.reports.every((r) => r.delivered), 60_000);
    const rows = await stack.deps.sql`select id, recipient_email, state, smtp_reply, failure_reason
      from delegations where campaign_id = ${id} order by recipient_email`;
    const failed = rows.filter((r) => r.state === 'failed');
    expect(failed.map((r) => r.recipient_email).sort()).toEqual(emails.filter((e) => e.startsWith('refused-')).sort());
    for (const r of failed) {
      expect(r.smtp_reply).toBe('550 5.1.1 <mailbox> User unknown');
      expect(r.failure_reason).toBe(BOUNCED_REASON);
    }
    expect(rows.filter((r) => r.state === 'offered')).toHaveLength(54);
    // Every refusal reached Mandate at its first delivery, and each return path was a bounce address.
    expect(relay.reports.map((r) => r.attempts)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(relay.reports.every((r) => r.returnPath.endsWith('@bounces.mandate.test'))).toBe(true);

    // The campaign's failed recipients show the server's reply, as an SMTP refusal does.
    const page = await stack.request(`/v1/campaigns/${id}/recipients?state=failed`, { token });
    expect(page.status).toBe(200);
    expect(JSON.stringify(await page.json())).toContain('550 5.1.1 <mailbox> User unknown');
  });
});
