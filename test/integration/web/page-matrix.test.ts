import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import { findStaffPrincipal } from '../../../services/shared/principals.ts';
import { createWebhookEndpoint, sendWebhookTest } from '../../../services/webhooks/endpoints.ts';
import type { PageClient } from '../../helpers/browser-client.ts';
import { PageClient as Anonymous } from '../../helpers/browser-client.ts';
import { signedInClient, stepUp } from '../../helpers/dashboard.ts';
import { createTestStaff, rowCounts } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The authorization matrix of the HTML pages and forms: every page × every kind of caller
 * of tenant A → the status it must get; and no page any of them can open ever holds a word
 * of tenant B (its names, addresses, ids) — not even when asked with B's ids. B's forms,
 * posted by A's people, are refused and change nothing.
 */
let stack: TestStack;

type Caller = 'anonymous' | 'client admin' | 'client member' | 'owner' | 'staff none' | 'staff limited';
const callers: Caller[] = ['anonymous', 'client admin', 'client member', 'owner', 'staff none', 'staff limited'];
const browsers = {} as Record<Caller, PageClient>;
type TenantIds = Awaited<ReturnType<typeof tenant>>['ids'];
/** What belongs to tenant B, as words and ids a page could leak. */
const bravo = {} as TenantIds;
const alpha = {} as TenantIds;

async function tenant(name: string, recipient: string) {
  const fixture = await createOfferFixture(stack, {
    partnerName: `${name} Partner`,
    offer: { access: 'full', durationDays: 365, name: `${name} Offer` },
    recipients: [recipient],
  });
  const { admin, delegationId } = await activateDelegation(stack, fixture, recipient);
  await stack.deps.sql`update organizations set name = ${`${name} Client`} where id = ${admin.orgId}`;
  const [campaign] = await stack.deps.sql`select campaign_id from delegations where id = ${delegationId}`;
  const op = (await (
    await stack.request(`/v1/delegations/${delegationId}/domains`, {
      method: 'POST',
      token: fixture.partner.token,
      json: { name: `${name.toLowerCase()}-marker.example` },
    })
  ).json()) as { operationId: string };
  const staffToken = await createTestStaff(stack, fixture.partner.partnerId, ['password_admin']);
  const [staff] = await stack.deps.sql`select user_id from api_tokens where org_id = ${fixture.partner.partnerId}
    and user_id <> ${fixture.partner.userId} limit 1`;
  const [token] = await stack.deps.sql`select id from api_tokens where user_id = ${fixture.partner.userId} limit 1`;
  // A webhook with a delivery no longer being tried (so one that could be sent again).
  const ownerPrincipal = await findStaffPrincipal(stack.deps.db, fixture.partner.userId);
  if (!ownerPrincipal) throw new Error('the owner is not staff');
  const webhookUrl = `https://93.184.215.14/${name.toLowerCase()}-hook`;
  const webhook = await createWebhookEndpoint(stack.deps, ownerPrincipal, {
    url: webhookUrl,
    events: ['delegation.activated'],
  });
  const { deliveryId } = await sendWebhookTest(stack.deps, ownerPrincipal, webhook.id);
  await stack.deps.sql`update webhook_deliveries set state = 'failed' where id = ${deliveryId}`;
  return {
    fixture,
    admin,
    staffToken,
    ids: {
      partnerName: `${name} Partner`,
      clientName: `${name} Client`,
      offerName: `${name} Offer`,
      recipient,
      ownerEmail: fixture.partner.email,
      adminEmail: admin.email,
      partnerId: fixture.partner.partnerId,
      clientOrgId: admin.orgId,
      delegationId,
      campaignId: String(campaign?.campaign_id),
      offerId: fixture.offer.id,
      operationId: op.operationId,
      staffUserId: String(staff?.user_id),
      tokenId: String(token?.id),
      webhookId: webhook.id,
      webhookUrl,
      webhookDeliveryId: deliveryId,
    },
  };
}

beforeAll(async () => {
  stack = await createTestStack();
  const a = await tenant('Alpha', 'alpha-admin@client.example');
  const b = await tenant('Bravo', 'bravo-admin@client.example');
  Object.assign(alpha, a.ids);
  Object.assign(bravo, b.ids);
  const member = await createClientOrganization(stack.deps.db, {
    orgName: 'x',
    adminName: 'Member',
    email: 'alpha-member@client.example',
    password: 'correct horse battery staple',
  });
  await stack.deps.sql`update users set org_id = ${a.admin.orgId}, is_global_admin = false where id = ${member.userId}`;
  const none = await createTestStaff(stack, a.fixture.partner.partnerId, []);
  const staffOf = async (token: string) =>
    String(
      (
        await stack.deps.sql`select user_id from api_tokens where token_hash = encode(sha256(${token}::bytea), 'hex')`
      )[0]?.user_id,
    );
  browsers.anonymous = new Anonymous(stack);
  await browsers.anonymous.get('/sign-in');
  browsers['client admin'] = await signedInClient(stack, a.admin.userId);
  browsers['client member'] = await signedInClient(stack, member.userId);
  browsers.owner = await signedInClient(stack, a.fixture.partner.userId);
  browsers['staff none'] = await signedInClient(stack, await staffOf(none));
  browsers['staff limited'] = await signedInClient(stack, await staffOf(a.staffToken));
  for (const caller of callers) if (caller !== 'anonymous') await stepUp(browsers[caller]);
}, 60_000);
afterAll(() => stack.close());

/** 200 shown, 303 sent to sign in, 403 refused, 404 nothing there. */
type Expect = Record<Caller, number>;
const anyone = (status: number): Expect => Object.fromEntries(callers.map((c) => [c, status])) as Expect;
const signedIn = (rest: Partial<Expect>): Expect => ({ ...anyone(403), anonymous: 303, ...rest });
const account = signedIn({
  'client admin': 200,
  'client member': 200,
  owner: 200,
  'staff none': 200,
  'staff limited': 200,
});
const clientAdmins = signedIn({ 'client admin': 200 });
const ownersOnly = signedIn({ owner: 200 });
const withAccess = signedIn({ owner: 200, 'staff limited': 200 });
const staff = signedIn({ owner: 200, 'staff none': 200, 'staff limited': 200 });

const pages: [string, () => string, Expect][] = [
  ['/account', () => '/account', account],
  ['/account/passkeys', () => '/account/passkeys', account],
  ['/account/password', () => '/account/password', account],
  ['/account/sessions', () => '/account/sessions', account],
  ['/account/two-factor', () => '/account/two-factor', account],
  ['/org/delegations', () => '/org/delegations', clientAdmins],
  ['/org/security', () => '/org/security', clientAdmins],
  ['/org/audit', () => '/org/audit', clientAdmins],
  ['/org/audit.csv', () => '/org/audit.csv', clientAdmins],
  ['/dashboard', () => '/dashboard', staff],
  ['/dashboard/offers', () => '/dashboard/offers', withAccess],
  ['/dashboard/offers/:id', () => `/dashboard/offers/${alpha.offerId}`, withAccess],
  ['/dashboard/campaigns', () => '/dashboard/campaigns', withAccess],
  ['/dashboard/campaigns/new', () => '/dashboard/campaigns/new', withAccess],
  ['/dashboard/campaigns/:id', () => `/dashboard/campaigns/${alpha.campaignId}`, withAccess],
  [
    '/dashboard/campaigns/:id/recipients.csv',
    () => `/dashboard/campaigns/${alpha.campaignId}/recipients.csv`,
    withAccess,
  ],
  ['/dashboard/delegations', () => '/dashboard/delegations', withAccess],
  ['/dashboard/delegations/:id', () => `/dashboard/delegations/${alpha.delegationId}`, withAccess],
  ['/dashboard/operations', () => '/dashboard/operations', withAccess],
  // Limited staff read only the operations they asked for themselves: the owner asked this one.
  [
    '/dashboard/operations/:id',
    () => `/dashboard/operations/${alpha.operationId}`,
    signedIn({ owner: 200, 'staff limited': 404 }),
  ],
  ['/dashboard/clients/:orgId', () => `/dashboard/clients/${alpha.clientOrgId}`, withAccess],
  ['/dashboard/search', () => '/dashboard/search?q=alpha', withAccess],
  ['/dashboard/delegations/:id/end', () => `/dashboard/delegations/${alpha.delegationId}/end`, ownersOnly],
  ['/dashboard/audit', () => '/dashboard/audit', ownersOnly],
  ['/dashboard/audit.csv', () => '/dashboard/audit.csv', ownersOnly],
  ['/dashboard/staff', () => '/dashboard/staff', ownersOnly],
  ['/dashboard/security', () => '/dashboard/security', ownersOnly],
  ['/dashboard/single-sign-on', () => '/dashboard/single-sign-on', ownersOnly],
  ['/dashboard/tokens', () => '/dashboard/tokens', staff],
  ['/dashboard/webhooks', () => '/dashboard/webhooks', ownersOnly],
  ['/dashboard/webhooks/:id', () => `/dashboard/webhooks/${alpha.webhookId}`, ownersOnly],
  ['/dashboard/webhooks/:id?state=failed', () => `/dashboard/webhooks/${alpha.webhookId}?state=failed`, ownersOnly],
  ['/dashboard/webhooks/:id/rotate', () => `/dashboard/webhooks/${alpha.webhookId}/rotate`, ownersOnly],
  ['/dashboard/webhooks/:id/delete', () => `/dashboard/webhooks/${alpha.webhookId}/delete`, ownersOnly],
  [
    '/dashboard/webhooks/:id/deliveries/:deliveryId',
    () => `/dashboard/webhooks/${alpha.webhookId}/deliveries/${alpha.webhookDeliveryId}`,
    ownersOnly,
  ],
  // Two partners on this instance and none named the operator: nobody sees every partner's jobs.
  ['/admin/queues', () => '/admin/queues', signedIn({})],
  // Development mode is off: the dev mailbox is not there.
  ['/dev/mail', () => '/dev/mail', anyone(404)],
];

/** The same pages asked with tenant B's ids: never shown, whoever asks. */
const foreign: [string, () => string][] = [
  ['offer', () => `/dashboard/offers/${bravo.offerId}`],
  ['campaign', () => `/dashboard/campaigns/${bravo.campaignId}`],
  ['retry confirmation', () => `/dashboard/campaigns/${bravo.campaignId}/retry`],
  ['recipients', () => `/dashboard/campaigns/${bravo.campaignId}/recipients.csv`],
  ['delegation', () => `/dashboard/delegations/${bravo.delegationId}`],
  ['delegations of a campaign', () => `/dashboard/delegations?campaignId=${bravo.campaignId}`],
  ['audit of a client', () => `/dashboard/audit?clientOrgId=${bravo.clientOrgId}`],
  ['audit csv of a client', () => `/dashboard/audit.csv?clientOrgId=${bravo.clientOrgId}`],
  ['audit by actor', () => `/org/audit?actor=${encodeURIComponent(bravo.ownerEmail)}`],
  ['operations', () => `/dashboard/operations?state=queued`],
  ['operation', () => `/dashboard/operations/${bravo.operationId}`],
  ['client', () => `/dashboard/clients/${bravo.clientOrgId}`],
  ['search for its client', () => `/dashboard/search?q=${encodeURIComponent('Bravo')}`],
  ['search for its recipient', () => `/dashboard/search?q=${encodeURIComponent(bravo.recipient)}`],
  ['ending its delegation', () => `/dashboard/delegations/${bravo.delegationId}/end`],
  ['webhook', () => `/dashboard/webhooks/${bravo.webhookId}`],
  ['rotating its webhook’s secret', () => `/dashboard/webhooks/${bravo.webhookId}/rotate`],
  ['deleting its webhook', () => `/dashboard/webhooks/${bravo.webhookId}/delete`],
  ['webhook delivery', () => `/dashboard/webhooks/${bravo.webhookId}/deliveries/${bravo.webhookDeliveryId}`],
  [
    'its delivery under A’s webhook',
    () => `/dashboard/webhooks/${alpha.webhookId}/deliveries/${bravo.webhookDeliveryId}`,
  ],
];

/** B's words in a body — but those the caller sent in the address itself (a filter echoed back is not a leak). */
function leaks(body: string, asked = ''): string[] {
  const sent = decodeURIComponent(asked);
  return Object.entries(bravo)
    .filter(([, marker]) => body.includes(marker) && !sent.includes(marker))
    .map(([name]) => name);
}

describe('the pages × callers of tenant A', () => {
  it.each(pages)('%s', async (_name, path, expected) => {
    for (const caller of callers) {
      const page = await browsers[caller].get(path());
      expect(page.status, `${caller} ${path()}`).toBe(expected[caller]);
      expect(leaks(page.html, path()), `${caller} ${path()}`).toEqual([]);
    }
  });

  it('shows what the page is for to the one it is for: A’s own data is there', async () => {
    expect((await browsers.owner.get(`/dashboard/campaigns/${alpha.campaignId}`)).html).toContain(alpha.recipient);
    expect((await browsers['client admin'].get('/org/delegations')).html).toContain(alpha.partnerName);
    expect((await browsers.owner.get('/dashboard/audit')).html).toContain('alpha-marker.example');
    expect((await browsers.owner.get('/dashboard/webhooks')).html).toContain(alpha.webhookUrl);
  });

  it.each(foreign)('asked with tenant B’s ids (%s): refused or empty, and not a word of B', async (_name, path) => {
    for (const caller of callers) {
      const page = await browsers[caller].get(path());
      expect([200, 303, 403, 404], `${caller} ${path()}`).toContain(page.status);
      expect(leaks(page.html, path()), `${caller} ${path()}`).toEqual([]);
    }
  });
});

describe('tenant B’s forms, posted by tenant A’s people', () => {
  const forms: [string, () => string, Record<string, string>][] = [
    ['retry a campaign', () => `/dashboard/campaigns/${bravo.campaignId}/retry`, {}],
    ['withdraw an offer', () => `/dashboard/offers/${bravo.offerId}/revoke`, { submission: 'k'.repeat(22) }],
    [
      'remind a campaign',
      () => `/dashboard/campaigns/${bravo.campaignId}/remind`,
      { submission: 'k'.repeat(22), afterDays: '1', number: '1' },
    ],
    ['retry an operation', () => `/dashboard/operations/${bravo.operationId}/retry`, {}],
    ['change a staff member’s access', () => `/dashboard/staff/${bravo.staffUserId}/access`, { access: 'full' }],
    ['remove a staff member', () => `/dashboard/staff/${bravo.staffUserId}/remove`, {}],
    ['revoke a token', () => `/dashboard/tokens/${bravo.tokenId}/revoke`, {}],
    ['end a delegation', () => `/org/delegations/${bravo.delegationId}/end`, {}],
    ['end a delegation from the dashboard', () => `/dashboard/delegations/${bravo.delegationId}/end`, {}],
    ['add a user', () => `/dashboard/delegations/${bravo.delegationId}/users`, { displayName: 'X', userName: 'x' }],
    ['add a domain', () => `/dashboard/delegations/${bravo.delegationId}/domains`, { name: 'x-marker.example' }],
    ['verify a domain', () => `/dashboard/delegations/${bravo.delegationId}/domains/bravo-marker.example/verify`, {}],
    [
      'change a webhook',
      () => `/dashboard/webhooks/${bravo.webhookId}/settings`,
      { url: 'https://93.184.215.14/x', 'event:operation.failed': 'on' },
    ],
    ['turn a webhook off', () => `/dashboard/webhooks/${bravo.webhookId}/enabled`, { enabled: 'off' }],
    ['send a webhook test', () => `/dashboard/webhooks/${bravo.webhookId}/test`, { submission: 'k'.repeat(22) }],
    ['rotate a webhook secret', () => `/dashboard/webhooks/${bravo.webhookId}/rotate`, {}],
    ['delete a webhook', () => `/dashboard/webhooks/${bravo.webhookId}/delete`, {}],
    [
      'send a webhook delivery again',
      () => `/dashboard/webhooks/${bravo.webhookId}/deliveries/${bravo.webhookDeliveryId}/redeliver`,
      { submission: 'k'.repeat(22) },
    ],
    [
      'send its delivery again under A’s webhook',
      () => `/dashboard/webhooks/${alpha.webhookId}/deliveries/${bravo.webhookDeliveryId}/redeliver`,
      { submission: 'k'.repeat(22) },
    ],
  ];
  it.each(forms)('%s: refused, nothing changed', async (_name, path, fields) => {
    const before = await rowCounts(stack);
    const [state] = await stack.deps.sql`select state from delegations where id = ${bravo.delegationId}`;
    const webhook = () => stack.deps.sql`select url, events, enabled, secret_sealed, updated_at from webhook_endpoints
      where id = ${bravo.webhookId}`;
    const webhookBefore = await webhook();
    for (const caller of callers) {
      const response = await browsers[caller].post(path(), fields);
      expect([303, 403, 404], `${caller} ${path()}`).toContain(response.status);
      if (response.status === 303) expect(response.location, `${caller} ${path()}`).toMatch(/^\/sign-in/);
      expect(leaks(response.html, path()), `${caller} ${path()}`).toEqual([]);
    }
    expect(await rowCounts(stack)).toEqual(before);
    const [after] = await stack.deps.sql`select state from delegations where id = ${bravo.delegationId}`;
    expect(after?.state).toBe(state?.state);
    const [token] = await stack.deps.sql`select revoked_at from api_tokens where id = ${bravo.tokenId}`;
    expect(token?.revoked_at).toBeNull();
    const [offer] = await stack.deps.sql`select revoked_at from offers where id = ${bravo.offerId}`;
    expect(offer?.revoked_at).toBeNull();
    expect(await webhook()).toEqual(webhookBefore);
  });
});
