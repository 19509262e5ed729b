import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../lib/secrets.ts';
import { createTestOffer, createTestPartner, createTestStaff, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * A campaign is sent on its requester's authority, checked again when each email goes
 * out (as queued operations are, services/operations/runner.ts): once the staff member who
 * sent it is removed, or may no longer send offers, the rest of it stops — nothing more
 * reaches the mail server, the recipients still waiting are withdrawn with the reason, and
 * the stop is in the partner's audit trail. The campaigns are recorded while their
 * requesters may send, and the workers start only after the change.
 */
let stack: TestStack;
let sink: SmtpSink;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let offerId: string;
const RECIPIENTS = 5;

interface Sent {
  campaignId: string;
  emails: string[];
  userId: string;
}

/** A staff member who may send offers, and a campaign of theirs, recorded and not yet sent. */
async function campaignOfNewMember(): Promise<Sent> {
  const token = await createTestStaff(stack, owner.partnerId, ['password_admin']);
  const [row] = await stack.deps.sql`select user_id from api_tokens where token_hash = ${sha256Hex(token)}`;
  const tag = randomBytes(4).toString('hex');
  const emails = Array.from({ length: RECIPIENTS }, (_, i) => `r${i}-${tag}@client.example`);
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, recipients: emails.map((email) => ({ email })) },
  });
  if (response.status !== 202) throw new Error(`campaign not recorded: ${response.status}`);
  const { id } = (await response.json()) as { id: string };
  return { campaignId: id, emails, userId: row?.user_id as string };
}

const received = (sent: Sent) => sink.messages.filter((m) => m.to.some((to) => sent.emails.includes(to))).length;
const states = async (sent: Sent) =>
  (await stack.deps.sql`select state, failure_reason from delegations where campaign_id = ${sent.campaignId}`).map(
    (r) => ({ state: r.state as string, reason: r.failure_reason as string | null }),
  );
const settled = (sent: Sent) => waitFor(async () => (await states(sent)).every((r) => r.state !== 'invited'));
const stops = (sent: Sent) =>
  stack.deps.sql`select actor_user_id, org_id, outcome, detail from audit_events
    where action = 'campaign.stop' and target_id = ${sent.campaignId}`;

let removed: Sent;
let lowered: Sent;
let kept: Sent;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
  owner = await createTestPartner(stack);
  offerId = (await createTestOffer(stack, owner.token)).id;
  removed = await campaignOfNewMember();
  lowered = await campaignOfNewMember();
  kept = await campaignOfNewMember();
  const removal = await stack.request(`/v1/staff/${removed.userId}`, { method: 'DELETE', token: owner.token });
  expect(removal.status).toBe(204);
  const change = await stack.request(`/v1/staff/${lowered.userId}/access`, {
    method: 'PUT',
    token: owner.token,
    json: { access: 'none' },
  });
  expect(change.status).toBe(200);
  await stack.startWorkers();
  await Promise.all([settled(removed), settled(lowered), settled(kept)]);
}, 60_000);
afterAll(async () => {
  await stack.close();
  await sink.close();
});

describe('a campaign whose requester may no longer send', () => {
  it('the campaign of a member who still may send goes out in full (the control)', async () => {
    await sink.waitForMessages(RECIPIENTS);
    expect(received(kept)).toBe(RECIPIENTS);
    expect((await states(kept)).map((r) => r.state)).toEqual(Array(RECIPIENTS).fill('offered'));
    expect(await stops(kept)).toHaveLength(0);
  });

  it('sends nothing more once its requester was removed, and withdraws the rest with the reason', async () => {
    expect(received(removed)).toBe(0);
    for (const row of await states(removed)) {
      expect(row.state).toBe('terminated');
      expect(row.reason).toContain('no longer on the staff');
    }
  });

  it('sends nothing more once its requester may no longer send offers', async () => {
    expect(received(lowered)).toBe(0);
    for (const row of await states(lowered)) {
      expect(row.state).toBe('terminated');
      expect(row.reason).toContain('no longer may send offers');
    }
  });

  it('records the stop once in the partner’s audit trail, by the system, with the reason and the requester', async () => {
    for (const sent of [removed, lowered]) {
      const rows = await stops(sent);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor_user_id: null, org_id: owner.partnerId, outcome: 'succeeded' });
      expect(rows[0]?.detail).toMatchObject({ requestedBy: sent.userId, withdrawn: RECIPIENTS });
      expect(String(rows[0]?.detail.reason)).toMatch(/no longer/);
    }
  });

  it('shows the owner why, in the campaign’s recipients', async () => {
    const response = await stack.request(`/v1/campaigns/${removed.campaignId}/recipients`, { token: owner.token });
    const { items } = (await response.json()) as { items: { state: string; failureReason: string | null }[] };
    expect(items).toHaveLength(RECIPIENTS);
    for (const item of items) expect(item.failureReason).toContain('no longer on the staff');
  });
});
