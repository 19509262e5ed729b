import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordReminderEmails, remindCampaign } from '../../../services/campaigns/reminders.ts';
import { findStaffPrincipal } from '../../../services/shared/principals.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A campaign reminder through the real workers to a real SMTP server: the offer emails go
 * out, then the reminder's, each carrying the link its recipient's offer email carried.
 */
let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

const linkIn = (text: string) => /http:\/\/mandate\.test\/offers\/[A-Za-z0-9_-]{43}/.exec(text)?.[0];

describe('a campaign reminder', () => {
  it('emails each recipient still offered once, with the link of its offer email, and the link works', async () => {
    const partner = await createTestPartner(stack, 'Contoso IT');
    const offer = await createTestOffer(stack, partner.token);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: partner.token,
      json: { offerId: offer.id, recipients: [{ email: 'ann@client.example' }, { email: 'bob@client.example' }] },
    });
    const { id } = (await response.json()) as { id: string };
    await sink.waitForMessages(2);
    await waitFor(async () => {
      const [row] = await stack.deps
        .sql`select count(*)::int as n from delegations where campaign_id = ${id} and state = 'offered'`;
      return row?.n === 2;
    });
    const offers = new Map(sink.messages.map((m) => [m.to[0], linkIn(m.text)]));
    await stack.deps.sql`update delegations set offered_at = now() - interval '8 days' where campaign_id = ${id}`;

    const principal = await findStaffPrincipal(stack.deps.db, partner.userId);
    if (!principal) throw new Error('no principal');
    expect(await remindCampaign(stack.deps, principal, id, { afterDays: 7 })).toEqual({
      number: 1,
      recipients: 2,
      repeated: false,
    });
    const all = await sink.waitForMessages(4);
    const reminders = all.filter((m) => m.subject?.startsWith('Reminder:'));
    expect(reminders.map((m) => m.to[0]).sort()).toEqual(['ann@client.example', 'bob@client.example']);
    for (const mail of reminders) {
      expect(mail.subject).toBe('Reminder: Contoso IT offers to administer your organization');
      const link = linkIn(mail.text);
      expect(link).toBeDefined();
      expect(link).toBe(offers.get(mail.to[0]));
      expect((await new PageClient(stack).get(new URL(link as string).pathname)).status).toBe(200);
    }
    // The job run again (a retry, a redelivery): nobody gets a second copy.
    await waitFor(async () => {
      const [row] = await stack.deps.sql`select recorded_at from campaign_reminders where campaign_id = ${id}`;
      return row?.recorded_at;
    });
    expect(await recordReminderEmails(stack.deps, id, 1)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sink.messages.filter((m) => m.subject?.startsWith('Reminder:'))).toHaveLength(2);
  }, 60_000);
});
