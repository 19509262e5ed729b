import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSignup } from '../../../services/accounts/signups.ts';
import { sendWeeklyDigests } from '../../../services/maintenance/weekly-digest.ts';
import { createTestOffer, createTestPartner, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

// A campaign long enough to be still sending when the confirmation is asked for (about
// 20 s at this rate), short enough to keep the file quick.
const RECIPIENTS = 2000;
const RATE = 100;
/** Client organizations told what partners did last week, all on one Monday: a burst of transactional mail. */
const DIGESTS = 300;
const TRANSACTIONAL_RATE = 20;

/** Asks for a sign-up confirmation; returns when it was asked and where it arrived among the sink's messages. */
async function signUpDuring(stack: TestStack, sink: SmtpSink, email: string) {
  const requestedAt = Date.now();
  await startSignup(stack.deps, {
    orgName: 'Newcomer',
    adminName: 'Sam',
    email,
    password: 'correct horse battery staple',
    returnTo: '/',
  });
  const at = await waitFor(async () => {
    const index = sink.messages.findIndex((m) => m.to.includes(email));
    return index >= 0 ? index + 1 : false;
  }, 30_000);
  const confirmation = sink.messages[at - 1];
  expect(confirmation?.subject).toMatch(/confirm/i);
  return {
    delayMs: (confirmation?.receivedAt ?? Number.POSITIVE_INFINITY) - requestedAt,
    before: sink.messages.slice(0, at),
  };
}

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
        TRANSACTIONAL_SEND_RATE_PER_SECOND: String(TRANSACTIONAL_RATE),
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

    const { delayMs, before } = await signUpDuring(stack, sink, 'sam@newcomer.example');
    const campaignBefore = before.filter((m) => m.to[0]?.endsWith('@client-a.example')).length;

    // Within a few seconds of the request, while most of A's campaign was still to go.
    expect(delayMs).toBeLessThan(3000);
    expect(RECIPIENTS - campaignBefore).toBeGreaterThan(RECIPIENTS / 2);
  });

  it('a sign-up confirmation does not wait behind a burst of weekly digests either', async () => {
    // A week of its own, far from the real one the workers' lifecycle passes digest.
    const now = new Date('2031-01-08T12:00:00Z');
    const inWeek = '2030-12-31T12:00:00Z';
    const { partnerId } = await createTestPartner(stack, 'Partner D');
    await stack.deps.sql`
      insert into organizations (id, kind, name)
      select 'org_digest' || lpad(g::text, 28, '0'), 'client', 'Client ' || g from generate_series(1, ${DIGESTS}) g`;
    await stack.deps.sql`
      insert into users (id, org_id, email, display_name, password_hash, is_global_admin)
      select 'usr_digest' || lpad(g::text, 28, '0'), 'org_digest' || lpad(g::text, 28, '0'),
             'admin' || g || '@digest.example', 'Admin', 'x', true
      from generate_series(1, ${DIGESTS}) g`;
    await stack.deps.sql`
      insert into audit_events (partner_id, org_id, action, target_type, target_id, outcome, created_at)
      select ${partnerId}, 'org_digest' || lpad(g::text, 28, '0'), 'operation.reset_password', 'user', 'usr_x',
             'succeeded', ${inWeek}
      from generate_series(1, ${DIGESTS}) g`;
    const digests = () => sink.messages.filter((m) => m.to[0]?.endsWith('@digest.example')).length;
    expect(await sendWeeklyDigests(stack.deps, now)).toBe(DIGESTS);
    // The digests are going out, at the transactional rate.
    await waitFor(async () => digests() >= TRANSACTIONAL_RATE);

    const { delayMs, before } = await signUpDuring(stack, sink, 'kim@newcomer.example');
    const digestsBefore = before.filter((m) => m.to[0]?.endsWith('@digest.example')).length;
    expect(delayMs).toBeLessThan(3000);
    expect(DIGESTS - digestsBefore).toBeGreaterThan(DIGESTS / 2);
  });
  it("partner B's small campaign goes out within a few chunks of partner A's, not after it", async () => {
    const a = await createTestPartner(stack, 'Partner Big');
    const b = await createTestPartner(stack, 'Partner Small');
    const offerA = await createTestOffer(stack, a.token);
    const offerB = await createTestOffer(stack, b.token);
    const fromA = (m: { to: string[] }) => m.to[0]?.endsWith('@big.example') ?? false;
    const fromB = (m: { to: string[] }) => m.to[0]?.endsWith('@small.example') ?? false;
    const bigCampaign = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: a.token,
      json: {
        offerId: offerA.id,
        recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `r${i}@big.example` })),
      },
    });
    expect(bigCampaign.status).toBe(202);
    await waitFor(async () => sink.messages.filter(fromA).length >= RATE);

    const aBefore = sink.messages.filter(fromA).length;
    const smallCampaign = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: b.token,
      json: {
        offerId: offerB.id,
        recipients: Array.from({ length: 50 }, (_, i) => ({ email: `r${i}@small.example` })),
      },
    });
    expect(smallCampaign.status).toBe(202);
    await waitFor(async () => sink.messages.filter(fromB).length >= 50, 60_000);
    const aMeanwhile = sink.messages.filter(fromA).length - aBefore;

    // First come, first served would put B's 50 after every one of A's. In turn, B waits
    // for the chunks already taken (two per worker process) and one more of A's.
    expect(aMeanwhile).toBeLessThanOrEqual(4 * 200);
    expect(RECIPIENTS - aBefore - aMeanwhile).toBeGreaterThan(RECIPIENTS / 4);
    expect(sink.messages.filter(fromB)).toHaveLength(50);
  });
});
