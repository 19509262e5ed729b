import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delegationLinkToken, sha256Hex } from '../../../lib/secrets.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;
let token: string;
let offerId: string;

beforeAll(async () => {
  sink = await startSmtpSink({
    rule: (address, attempt) => {
      if (address.startsWith('unknown')) return { code: 550, message: '5.1.1 Mailbox unknown' };
      if (address.startsWith('always-busy')) return { code: 451, message: '4.3.0 Try again later' };
      if (address.startsWith('busy-once') && attempt === 1) return { code: 451, message: '4.3.0 Try again later' };
      return undefined;
    },
  });
  stack = await createTestStack({ env: { SMTP_URL: sink.url, MAIL_ATTEMPTS: '3', MAIL_BACKOFF_MS: '100' } });
  ({ token } = await createTestPartner(stack, 'Acme <IT> & Co'));
  offerId = (await createTestOffer(stack, token, { access: 'full', durationDays: 365 })).id;
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

/** Records a campaign (no workers yet) and returns its delegations by email. */
async function campaignOf(emails: string[]): Promise<Map<string, string>> {
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, recipients: emails.map((email) => ({ email, name: 'Pat' })) },
  });
  const { id } = (await response.json()) as { id: string };
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${id}`;
  return new Map(rows.map((r) => [r.recipient_email as string, r.id as string]));
}

async function jobState(jobId: string) {
  const job = await stack.deps.queues.queue('mail').getJob(jobId);
  return job ? { state: await job.getState(), job } : undefined;
}

const delegation = async (id: string) =>
  (await stack.deps.sql`select * from delegations where id = ${id}`)[0] as Record<string, unknown>;

describe('send-offer', () => {
  beforeAll(async () => {
    await stack.startWorkers();
  });

  it('sends one email with the per-recipient link, a deterministic Message-ID and the offer terms; invited → offered', async () => {
    const ids = await campaignOf(['first@client.example']);
    const id = ids.get('first@client.example') as string;
    await stack.deps.queues.enqueue('send-offer', { delegationId: id });
    const [mail] = await sink.waitForMessages(1);
    await waitFor(async () => (await delegation(id)).state === 'offered');

    const linkToken = delegationLinkToken(stack.config.linkSecret, id);
    expect(mail?.to).toEqual(['first@client.example']);
    // Without MAIL_BOUNCE_DOMAIN, the return path is MAIL_FROM's address, as it always was.
    expect(mail?.from).toBe('no-reply@localhost');
    expect(mail?.messageId).toBe(`<${id}.offer@localhost>`);
    expect(mail?.subject).toBe('Acme <IT> & Co offers to administer your organization');
    expect(mail?.text).toContain(`http://mandate.test/offers/${linkToken}`);
    expect(mail?.html).toContain(`http://mandate.test/offers/${linkToken}`);
    expect(mail?.html).toContain('Acme &lt;IT&gt; &amp; Co');
    expect(mail?.text).toContain('Full administration');
    expect(mail?.text).toContain('1 year');

    const row = await delegation(id);
    expect(row).toMatchObject({ state: 'offered', send_attempts: 1, token_hash: sha256Hex(linkToken) });
    expect(row.message_id).toBe(`<${id}.offer@localhost>`);
    const events = await stack.deps
      .sql`select event, from_state, to_state, actor_type from delegation_events where delegation_id = ${id}`;
    expect(events).toEqual([
      { event: 'send_succeeded', from_state: 'invited', to_state: 'offered', actor_type: 'system' },
    ]);
  });

  it('a redelivered job sends nothing more', async () => {
    const id = (await campaignOf(['twice@client.example'])).get('twice@client.example') as string;
    const before = sink.messages.length;
    await stack.deps.queues.enqueue('send-offer', { delegationId: id });
    await waitFor(async () => (await jobState(`send-offer.${id}`))?.state === 'completed');
    // The same work again: under its deterministic id it is not even queued…
    await stack.deps.queues.enqueue('send-offer', { delegationId: id });
    // …and run again under another id (as after a lost lock), the handler skips it.
    await stack.deps.queues.queue('mail').add('send-offer', { delegationId: id }, { jobId: `redelivery.${id}` });
    const again = await waitFor(async () => {
      const found = await jobState(`redelivery.${id}`);
      return found?.state === 'completed' ? found.job : undefined;
    });
    expect(again.returnvalue).toEqual({ outcome: 'skipped', state: 'offered' });
    expect(sink.messages.length - before).toBe(1);
    expect(sink.messages.filter((m) => m.to.includes('twice@client.example'))).toHaveLength(1);
    const [{ n }] = (await stack.deps
      .sql`select count(*)::int as n from delegation_events where delegation_id = ${id}`) as unknown as [{ n: number }];
    expect(n).toBe(1);
  });

  it('a 550 reply fails the delegation at once with the reply recorded, without retrying', async () => {
    const id = (await campaignOf(['unknown@client.example'])).get('unknown@client.example') as string;
    await stack.deps.queues.enqueue('send-offer', { delegationId: id });
    await waitFor(async () => (await delegation(id)).state === 'failed');
    const row = await delegation(id);
    expect(row.smtp_reply).toMatch(/^550 5\.1\.1 Mailbox unknown/);
    expect(row.failure_reason).toBe('The mail server refused the message');
    expect(row.send_attempts).toBe(1);
    const found = await waitFor(async () => {
      const job = await jobState(`send-offer.${id}`);
      return job?.state === 'failed' ? job.job : undefined;
    });
    expect(found.attemptsMade).toBe(1);
    expect(sink.attempts.get('unknown@client.example')).toBe(1);
  });

  it('a temporary reply is retried with backoff and then delivered', async () => {
    const id = (await campaignOf(['busy-once@client.example'])).get('busy-once@client.example') as string;
    await stack.deps.queues.enqueue('send-offer', { delegationId: id });
    await waitFor(async () => (await delegation(id)).state === 'offered');
    expect((await delegation(id)).send_attempts).toBe(2);
    expect(sink.messages.filter((m) => m.to.includes('busy-once@client.example'))).toHaveLength(1);
  });

  it('temporary replies until the last attempt fail the delegation with the last reply', async () => {
    const id = (await campaignOf(['always-busy@client.example'])).get('always-busy@client.example') as string;
    await stack.deps.queues.enqueue('send-offer', { delegationId: id });
    await waitFor(async () => (await delegation(id)).state === 'failed');
    const row = await delegation(id);
    expect(row.send_attempts).toBe(3);
    expect(row.failure_reason).toBe('Gave up after 3 attempts; the last reply was temporary');
    expect(row.smtp_reply).toMatch(/^451 4\.3\.0 Try again later/);
  });

  it('sends nothing for a delegation whose offer expired meanwhile', async () => {
    const offer = await createTestOffer(stack, token);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: offer.id, recipients: [{ email: 'late@client.example' }] },
    });
    const { id: campaignId } = (await response.json()) as { id: string };
    await stack.deps.sql`update offers set expires_at = now() - interval '1 second' where id = ${offer.id}`;
    await waitFor(async () => {
      const [row] = await stack.deps
        .sql`select state, failure_reason from delegations where campaign_id = ${campaignId}`;
      return row?.state === 'failed' ? row : undefined;
    });
    expect(sink.messages.some((m) => m.to.includes('late@client.example'))).toBe(false);
  });
});
