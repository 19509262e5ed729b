import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permanentSendFailures } from '../../../core/send-failures.ts';
import { applyTransition, systemActor } from '../../../services/delegations/transitions.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let token: string;
let offerId: string;

beforeAll(async () => {
  stack = await createTestStack();
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token)).id;
});
afterAll(() => stack.close());

/** How each recipient's send failed: a 550 to its address, a bounce, or temporary replies until the attempts ran out. */
const failures = {
  'refused@x.example': { failureReason: permanentSendFailures.refused, smtpReply: '550 5.1.1 user unknown' },
  'bounced@x.example': { failureReason: permanentSendFailures.bounced, smtpReply: 'smtp; 550 5.1.1 no such user' },
  'busy@x.example': {
    failureReason: 'Gave up after 10 attempts; the last reply was temporary',
    smtpReply: '421 4.7.0 try again later (during RCPT TO)',
  },
} as const;

/** A campaign whose three recipients failed, one of each kind; returns its id and the recipients' ids by address. */
async function failedCampaign(): Promise<{ id: string; ids: Map<string, string> }> {
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, recipients: Object.keys(failures).map((email) => ({ email })) },
  });
  const { id } = (await response.json()) as { id: string };
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${id}`;
  const ids = new Map<string, string>();
  for (const row of rows) {
    const email = row.recipient_email as keyof typeof failures;
    ids.set(email, row.id as string);
    await applyTransition(stack.deps.db, {
      delegationId: row.id as string,
      from: 'invited',
      event: 'send_failed',
      actor: systemActor,
      set: { ...failures[email], sendAttempts: 1 },
    });
  }
  return { id, ids };
}

const retry = (id: string, json: unknown) =>
  stack.request(`/v1/campaigns/${id}/retry-failed`, { method: 'POST', token, json });

const statesOf = async (id: string) =>
  Object.fromEntries(
    (await stack.deps.sql`select recipient_email, state from delegations where campaign_id = ${id}`).map((r) => [
      r.recipient_email,
      r.state,
    ]),
  );

describe('POST /v1/campaigns/{id}/retry-failed', () => {
  it('retries the temporary failures and leaves the permanent refusals (5xx, bounces) alone by default', async () => {
    const { id } = await failedCampaign();
    const response = await retry(id, {});
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ retried: 1, skippedPermanent: 2 });
    expect(await statesOf(id)).toEqual({
      'refused@x.example': 'failed',
      'bounced@x.example': 'failed',
      'busy@x.example': 'invited',
    });
    const [audit] = await stack.deps.sql`
      select detail from audit_events where action = 'campaign.retry_failed' and target_id = ${id}`;
    expect(audit?.detail).toMatchObject({ retried: 1, includePermanent: false, skippedPermanent: 2 });
  });

  it('retries the permanent refusals too with includePermanent: true', async () => {
    const { id } = await failedCampaign();
    const response = await retry(id, { includePermanent: true });
    expect(await response.json()).toEqual({ retried: 3, skippedPermanent: 0 });
    expect(Object.values(await statesOf(id))).toEqual(['invited', 'invited', 'invited']);
  });

  it('leaves out a named recipient that was refused for good unless asked', async () => {
    const { id, ids } = await failedCampaign();
    const refused = ids.get('refused@x.example') as string;
    expect(await (await retry(id, { delegationIds: [refused] })).json()).toEqual({ retried: 0, skippedPermanent: 1 });
    expect((await statesOf(id))['refused@x.example']).toBe('failed');
    const asked = await retry(id, { delegationIds: [refused], includePermanent: true });
    expect(await asked.json()).toEqual({ retried: 1, skippedPermanent: 0 });
    expect(await statesOf(id)).toMatchObject({ 'refused@x.example': 'invited', 'bounced@x.example': 'failed' });
  });

  it('refuses an includePermanent that is not a boolean', async () => {
    const { id } = await failedCampaign();
    expect((await retry(id, { includePermanent: 'yes' })).status).toBe(422);
    expect(Object.values(await statesOf(id))).toEqual(['failed', 'failed', 'failed']);
  });
});
