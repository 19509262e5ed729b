import { afterAll, beforeAll, expect, it } from 'vitest';
import { subscribableEventTypes } from '../../core/webhook-events.ts';
import { delegationLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { terminateByClient } from '../../services/delegations/termination.ts';
import { acceptOffer, declineOffer } from '../../services/offers/acceptance.ts';
import type { PartnerPrincipal } from '../../services/shared/principals.ts';
import { createWebhookEndpoint } from '../../services/webhooks/endpoints.ts';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { createClientAdmin } from '../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';
import { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let stack: TestStack;
let sink: SmtpSink;
let plain: WebhookReceiver;
let flaky: WebhookReceiver;

beforeAll(async () => {
  // The desk that cannot take email refuses for good: the operation emailing it fails.
  sink = await startSmtpSink({
    rule: (address) => (address.startsWith('nobody') ? { code: 550, message: 'No such mailbox' } : undefined),
  });
  stack = await createTestStack({
    env: {
      SMTP_URL: sink.url,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCALE: '0.0002',
      WEBHOOK_TIMEOUT_MS: '3000',
    },
    workers: true,
  });
  plain = await startWebhookReceiver();
  // Answers 500 to each event's first try: the retry must carry the same webhook-id.
  flaky = await startWebhookReceiver({ behaviour: { kind: 'fail-first', tries: 1 } });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
  await plain.close();
  await flaky.close();
});

interface Delivered {
  type: string;
  partnerId: string;
  data: {
    delegationId?: string;
    endedBy?: string;
    clientOrganization?: { id: string; name: string } | null;
    error?: string;
    [key: string]: unknown;
  };
}

/** Every string of `value`'s keys, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

async function waitForState(delegationId: string, state: string) {
  await waitFor(async () => {
    const [row] = await stack.deps.sql`select state from delegations where id = ${delegationId}`;
    return row?.state === state;
  });
}

async function operation(token: string, delegationId: string, userName: string, desk = 'desk') {
  const response = await stack.request(`/v1/delegations/${delegationId}/users`, {
    method: 'POST',
    token,
    json: { displayName: `User ${userName}`, userName, notifyEmail: `${desk}@partner.example` },
  });
  expect(response.status).toBe(202);
  const { operationId } = (await response.json()) as { operationId: string };
  return waitFor(async () => {
    const [row] = await stack.deps.sql`select state from operations where id = ${operationId}`;
    return row && ['succeeded', 'failed', 'rejected'].includes(row.state as string) ? (row.state as string) : undefined;
  });
}

it('sends each event once, verified and signed, to every endpoint subscribed; a retry keeps the webhook-id', async () => {
  const partner = await createTestPartner(stack);
  const principal: PartnerPrincipal = { ...partner, isOwner: true, roles: [], tokenId: null, token: null };
  const first = await createWebhookEndpoint(stack.deps, principal, { url: plain.url, events: subscribableEventTypes });
  const second = await createWebhookEndpoint(stack.deps, principal, { url: flaky.url, events: subscribableEventTypes });
  plain.secrets = [first.secret];
  flaky.secrets = [second.secret];

  const offer = await createTestOffer(stack, partner.token, { access: 'full', durationDays: 365 });
  const recipients = ['one@client.example', 'two@client.example', 'three@client.example'];
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token: partner.token,
    json: { offerId: offer.id, recipients: recipients.map((email) => ({ email })) },
  });
  expect(response.status).toBe(202);
  const { id: campaignId } = (await response.json()) as { id: string };
  await waitFor(async () => {
    const [row] = await stack.deps.sql`select completed_at from campaigns where id = ${campaignId}`;
    return row?.completed_at;
  });
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${campaignId}`;
  const links = new Map<string, { id: string; token: string }>();
  for (const row of rows) {
    const id = row.id as string;
    const token = delegationLinkToken(stack.config.linkSecret, id);
    await stack.deps.sql`update delegations set token_hash = ${sha256Hex(token)} where id = ${id}`;
    links.set(row.recipient_email as string, { id, token });
  }
  const one = links.get('one@client.example') as { id: string; token: string };
  const two = links.get('two@client.example') as { id: string; token: string };
  const three = links.get('three@client.example') as { id: string; token: string };

  // Accepted (and activated) by two organizations; declined by the third recipient.
  const adminOne = await createClientAdmin(stack, 'Org One');
  await acceptOffer(stack.deps, one.token, adminOne);
  const adminThree = await createClientAdmin(stack, 'Org Three');
  await acceptOffer(stack.deps, three.token, adminThree);
  await declineOffer(stack.deps, two.token, null);
  await waitForState(one.id, 'active');
  await waitForState(three.id, 'active');

  // An operation that succeeds, and one that fails (its temporary password cannot be emailed).
  expect(await operation(partner.token, one.id, 'webhook-e2e')).toBe('succeeded');
  expect(await operation(partner.token, one.id, 'webhook-e2e-2', 'nobody')).toBe('failed');

  // Ended by the partner, and by the client.
  const ended = await stack.request(`/v1/delegations/${one.id}`, { method: 'DELETE', token: partner.token });
  expect(ended.status).toBe(200);
  await terminateByClient(stack.deps, adminThree, three.id);

  const expected: Record<string, number> = {
    'campaign.completed': 1,
    'delegation.accepted': 2,
    'delegation.activated': 2,
    'delegation.declined': 1,
    'delegation.terminated': 2,
    'operation.succeeded': 1,
    'operation.failed': 1,
  };
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  const delivered = (r: WebhookReceiver) => r.requests.filter((q) => q.verified && q.status === 200);
  await waitFor(async () => delivered(plain).length >= total && delivered(flaky).length >= total, 60_000);
  // Time for any extra copy to show.
  await new Promise((r) => setTimeout(r, 1_500));

  const byType = (reqs: ReceivedWebhook[]) => {
    const counts: Record<string, number> = {};
    for (const r of reqs) counts[String(r.json?.type)] = (counts[String(r.json?.type)] ?? 0) + 1;
    return counts;
  };
  // Every request verifies with its own endpoint's secret, and with no other.
  expect(plain.requests.every((r) => r.verified)).toBe(true);
  expect(flaky.requests.every((r) => r.verified)).toBe(true);
  expect(byType(plain.requests)).toEqual(expected);
  for (const [id, copies] of plain.byId()) {
    expect(copies, id).toHaveLength(1);
    expect(copies[0]?.json?.id).toBe(id);
  }
  // The flaky one: two tries of each event, the same id and body, the second delivered.
  const flakyIds = flaky.byId();
  expect(flakyIds.size).toBe(total);
  for (const [id, copies] of flakyIds) {
    expect(
      copies.map((c) => c.status),
      id,
    ).toEqual([500, 200]);
    expect(copies[1]?.body).toBe(copies[0]?.body);
  }
  expect(byType(delivered(flaky))).toEqual(expected);
  // The same events on both endpoints.
  expect([...flakyIds.keys()].sort()).toEqual([...plain.byId().keys()].sort());

  const events = plain.requests.map((r) => r.json as unknown as Delivered);
  for (const e of events) expect(e.partnerId).toBe(partner.partnerId);
  const terminated = events.filter((e) => e.type === 'delegation.terminated');
  expect(Object.fromEntries(terminated.map((e) => [e.data.delegationId, e.data.endedBy]))).toEqual({
    [one.id]: 'partner',
    [three.id]: 'client',
  });
  expect(Object.fromEntries(terminated.map((e) => [e.data.delegationId, e.data.clientOrganization?.name]))).toEqual({
    [one.id]: 'Org One',
    [three.id]: 'Org Three',
  });
  for (const e of events.filter((e) => e.type === 'delegation.activated' || e.type.startsWith('operation.'))) {
    expect(e.data.clientOrganization).toMatchObject({ name: expect.stringMatching(/^Org (One|Three)$/) });
  }
  expect(events.find((e) => e.type === 'delegation.declined')?.data.delegationId).toBe(two.id);
  expect(events.find((e) => e.type === 'operation.failed')?.data.error).toContain('could not be emailed');
  expect(events.find((e) => e.type === 'campaign.completed')?.data).toMatchObject({ campaignId });

  // Nothing secret in any body: no key says so, and no known secret value appears.
  const temporaryPasswords = sink.messages
    .map((m) => /Temporary password: (\S+)/.exec(m.text ?? '')?.[1])
    .filter(Boolean);
  expect(temporaryPasswords.length).toBeGreaterThan(0);
  const secrets = [first.secret, second.secret, partner.token, partner.password, one.token, two.token, three.token];
  for (const r of [...plain.requests, ...flaky.requests]) {
    // `temporaryPasswordSentTo` is the address it was emailed to, not the password (checked below).
    const keys = keysOf(r.json).filter((k) => k !== 'temporaryPasswordSentTo');
    for (const key of keys) expect(key).not.toMatch(/password|secret|token/i);
    for (const s of [...secrets, ...temporaryPasswords] as string[]) expect(r.body).not.toContain(s);
  }
}, 120_000);
