import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TokenScope, tokenScopes } from '../../../core/token-scopes.ts';
import { newApiToken, sha256Hex } from '../../../lib/secrets.ts';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import {
  createTestClientWithToken,
  createTestOffer,
  createTestPartner,
  createTestStaff,
  readProblem,
} from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Every route of the partner API × every kind of caller, in one table: the status each
 * must get. Resources belong to the owner's partner; the delegation grants full access.
 */
let stack: TestStack;
const tokens: Record<string, string | undefined> = {};
const ids: Record<string, string> = {};
/**
 * Tokens that fail before the route's own checks: the owner's lacking each scope, an expired
 * one and a revoked one, and the token of a staff member removed since (DELETE /v1/staff/{id}).
 */
const lacking = {} as Record<TokenScope, string>;
const spoiled: Record<'expired' | 'revoked' | 'of a removed staff member', string> = {
  expired: '',
  revoked: '',
  'of a removed staff member': '',
};

const callers = [
  'anonymous',
  'bad token',
  'client user',
  'other partner',
  'staff none',
  'staff limited',
  'staff full',
  'owner',
] as const;
type Caller = (typeof callers)[number];
const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await createTestStack();
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const owner = fixture.partner;
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  const ending = await activateDelegation(
    stack,
    await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } }),
  );
  await stack.deps
    .sql`update delegations set partner_id = ${owner.partnerId}, offer_id = ${fixture.offer.id} where id = ${ending.delegationId}`;
  const member = await createClientOrganization(stack.deps.db, {
    orgName: 'x',
    adminName: 'Member',
    email: `member-${unique()}@client.example`,
    password: 'correct horse battery staple',
  });
  await stack.deps.sql`update users set org_id = ${admin.orgId}, is_global_admin = false where id = ${member.userId}`;
  await stack.deps
    .sql`insert into domains (id, org_id, name, verification_token) values (${`dom_${'1'.repeat(32)}`}, ${admin.orgId}, 'matrix.example.com', 'tok')`;
  const [campaign] = await stack.deps.sql`select campaign_id from delegations where id = ${delegationId}`;
  const revocable = await createTestOffer(stack, owner.token);
  const staffNone = await createTestStaff(stack, owner.partnerId, []);
  const [staffUser] = await stack.deps
    .sql`select user_id from staff_access where partner_id = ${owner.partnerId} and not is_owner limit 1`;
  const [operation] = await stack.deps.sql`
    insert into operations (id, partner_id, delegation_id, client_org_id, kind, requested_by, input)
    values (${`op_${'2'.repeat(32)}`}, ${owner.partnerId}, ${delegationId}, ${admin.orgId}, 'verify_domain', ${owner.userId}, '{}')
    returning id`;
  // Removed by the owner's row of the matrix, so no caller loses its own access on the way.
  const removableToken = await createTestStaff(stack, owner.partnerId, ['password_admin']);
  const [removable] = await stack.deps
    .sql`select user_id from api_tokens where token_hash = ${sha256Hex(removableToken)}`;
  const invited = await stack.request('/v1/staff', {
    method: 'POST',
    token: owner.token,
    json: { email: `invited-${unique()}@partner.example`, displayName: 'I', access: 'none' },
  });
  if (invited.status !== 202) throw new Error(`invitation not sent: ${invited.status}`);
  const [invitation] = await stack.deps.sql`select id from staff_invitations where partner_id = ${owner.partnerId}`;
  const ownerToken = async (scopes: readonly TokenScope[], expiresAt = 'now()', revokedAt: string | null = null) => {
    const token = newApiToken();
    const id = `tok_${randomBytes(16).toString('hex')}`;
    await stack.deps.sql`insert into api_tokens (id, user_id, org_id, token_hash, label, scopes, expires_at, revoked_at)
      values (${id}, ${owner.userId}, ${owner.partnerId}, ${sha256Hex(token)}, 'matrix', ${[...scopes]},
        ${expiresAt === 'now()' ? stack.deps.sql`now() + interval '1 day'` : expiresAt}, ${revokedAt})`;
    return { id, token };
  };
  for (const scope of tokenScopes) lacking[scope] = (await ownerToken(tokenScopes.filter((s) => s !== scope))).token;
  spoiled.expired = (await ownerToken(tokenScopes, '2026-01-01T00:00:00Z')).token;
  spoiled.revoked = (await ownerToken(tokenScopes, 'now()', new Date().toISOString())).token;
  const webhook = async () => {
    const made = await stack.request('/v1/webhooks', {
      method: 'POST',
      token: owner.token,
      json: { url: 'https://8.8.8.8/matrix', events: ['delegation.accepted'] },
    });
    if (made.status !== 201) throw new Error(`webhook not registered: ${made.status}`);
    return ((await made.json()) as { id: string }).id;
  };
  const webhookId = await webhook();
  const tested = await stack.request(`/v1/webhooks/${webhookId}/test`, { method: 'POST', token: owner.token });
  if (tested.status !== 202) throw new Error(`webhook test not queued: ${tested.status}`);
  const { deliveryId } = (await tested.json()) as { deliveryId: string };
  // Failed for good, so it may be redelivered.
  await stack.deps.sql`update webhook_deliveries set state = 'failed', attempts = 12 where id = ${deliveryId}`;
  Object.assign(ids, {
    webhook: webhookId,
    deletableWebhook: await webhook(),
    webhookDelivery: deliveryId,
    spareToken: (await ownerToken(['read'])).id,
    invitation: invitation?.id,
    offer: fixture.offer.id,
    revocable: revocable.id,
    campaign: campaign?.campaign_id,
    delegation: delegationId,
    ending: ending.delegationId,
    member: member.userId,
    staff: staffUser?.user_id,
    removable: removable?.user_id,
    operation: operation?.id,
    clientOrg: admin.orgId,
  });
  Object.assign(tokens, {
    anonymous: undefined,
    'bad token': newApiToken(),
    'client user': await createTestClientWithToken(stack),
    'other partner': (await createTestPartner(stack)).token,
    'staff none': staffNone,
    'staff limited': await createTestStaff(stack, owner.partnerId, ['password_admin']),
    'staff full': await createTestStaff(stack, owner.partnerId, ['global_admin']),
    owner: owner.token,
  });
  // A full-access member with every scope, whose token works — until an owner removes them.
  const leaving = await createTestStaff(stack, owner.partnerId, ['global_admin']);
  const worked = await stack.request('/v1/offers', { token: leaving });
  if (worked.status !== 200) throw new Error(`the leaving member's token did not work: ${worked.status}`);
  const [leaver] = await stack.deps.sql`select user_id from api_tokens where token_hash = ${sha256Hex(leaving)}`;
  const removed = await stack.request(`/v1/staff/${leaver?.user_id}`, { method: 'DELETE', token: owner.token });
  if (removed.status !== 204) throw new Error(`staff member not removed: ${removed.status}`);
  spoiled['of a removed staff member'] = leaving;
});
afterAll(() => stack.close());

type Row = [
  method: string,
  route: string,
  path: () => string,
  body: (() => unknown) | null,
  expect: Partial<Record<Caller, number>>,
];
const unauthenticated = { anonymous: 401, 'bad token': 401, 'client user': 401 } as const;

/** For each route: the status of each partner caller (the three unauthenticated ones always get 401). */
const table: Row[] = [
  [
    'GET',
    '/v1/offers',
    () => `/v1/offers`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/offers',
    () => `/v1/offers`,
    () => ({ name: 'M', access: 'limited' }),
    { 'other partner': 201, 'staff none': 403, 'staff limited': 201, 'staff full': 201, owner: 201 },
  ],
  [
    'DELETE',
    '/v1/offers/{id}',
    () => `/v1/offers/${ids.revocable}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'GET',
    '/v1/campaigns',
    () => `/v1/campaigns`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/campaigns',
    () => `/v1/campaigns`,
    () => ({ offerId: ids.offer, recipients: [{ email: `m-${unique()}@x.example` }] }),
    { 'other partner': 404, 'staff none': 403, 'staff limited': 202, 'staff full': 202, owner: 202 },
  ],
  [
    'GET',
    '/v1/campaigns/{id}',
    () => `/v1/campaigns/${ids.campaign}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'GET',
    '/v1/campaigns/{id}/recipients',
    () => `/v1/campaigns/${ids.campaign}/recipients`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/campaigns/{id}/retry-failed',
    () => `/v1/campaigns/${ids.campaign}/retry-failed`,
    () => ({}),
    { 'other partner': 404, 'staff none': 403, 'staff limited': 202, 'staff full': 202, owner: 202 },
  ],
  [
    'GET',
    '/v1/delegations',
    () => `/v1/delegations`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'GET',
    '/v1/delegations/{id}',
    () => `/v1/delegations/${ids.delegation}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/delegations/{id}/extend',
    () => `/v1/delegations/${ids.delegation}/extend`,
    () => ({ days: 1 }),
    // Never extends: a longer delegation needs the client's yes (409 AMENDMENT_REQUIRED).
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 409, owner: 409 },
  ],
  [
    'GET',
    '/v1/delegations/{id}/amendments',
    () => `/v1/delegations/${ids.delegation}/amendments`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/delegations/{id}/amendments',
    () => `/v1/delegations/${ids.delegation}/amendments`,
    () => ({ extendDays: 1 }),
    // An addition waits for the client: staff full's is recorded (202); the owner's, second,
    // finds it waiting (one at a time: 409) — past authorization either way.
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 202, owner: 409 },
  ],
  [
    'GET',
    '/v1/delegations/{id}/users',
    () => `/v1/delegations/${ids.delegation}/users`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/delegations/{id}/users',
    () => `/v1/delegations/${ids.delegation}/users`,
    () => ({ displayName: 'M', userName: `m${unique()}` }),
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 202, owner: 202 },
  ],
  [
    'POST',
    '/v1/delegations/{id}/users/{userId}/password-reset',
    () => `/v1/delegations/${ids.delegation}/users/${ids.member}/password-reset`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 202, 'staff full': 202, owner: 202 },
  ],
  [
    'GET',
    '/v1/delegations/{id}/domains',
    () => `/v1/delegations/${ids.delegation}/domains`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/delegations/{id}/domains',
    () => `/v1/delegations/${ids.delegation}/domains`,
    () => ({ name: `d${unique()}.example.org` }),
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 202, owner: 202 },
  ],
  [
    'POST',
    '/v1/delegations/{id}/domains/{name}/verify',
    () => `/v1/delegations/${ids.delegation}/domains/matrix.example.com/verify`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 202, owner: 202 },
  ],
  [
    'GET',
    '/v1/operations',
    () => `/v1/operations`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'GET',
    '/v1/operations/{id}',
    () => `/v1/operations/${ids.operation}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 404, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/operations/{id}/retry',
    () => `/v1/operations/${ids.operation}/retry`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 404, 'staff full': 202, owner: 202 },
  ],
  [
    'GET',
    '/v1/staff',
    () => `/v1/staff`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'POST',
    '/v1/staff',
    () => `/v1/staff`,
    () => ({ email: `s-${unique()}@partner.example`, displayName: 'S', access: 'none' }),
    { 'other partner': 202, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 202 },
  ],
  [
    'GET',
    '/v1/staff/invitations',
    () => `/v1/staff/invitations`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'DELETE',
    '/v1/staff/invitations/{id}',
    () => `/v1/staff/invitations/${ids.invitation}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 204 },
  ],
  [
    'PUT',
    '/v1/staff/{userId}/access',
    () => `/v1/staff/${ids.staff}/access`,
    () => ({ access: 'none' }),
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'DELETE',
    '/v1/staff/{userId}',
    () => `/v1/staff/${ids.removable}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 204 },
  ],
  [
    'GET',
    '/v1/audit',
    () => `/v1/audit?clientOrgId=${ids.clientOrg}`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'GET',
    '/v1/tokens',
    () => `/v1/tokens`,
    null,
    { 'other partner': 200, 'staff none': 200, 'staff limited': 200, 'staff full': 200, owner: 200 },
  ],
  [
    'POST',
    '/v1/tokens',
    () => `/v1/tokens`,
    () => ({ name: 'M', scopes: ['read'] }),
    { 'other partner': 201, 'staff none': 201, 'staff limited': 201, 'staff full': 201, owner: 201 },
  ],
  [
    'DELETE',
    '/v1/tokens/{id}',
    () => `/v1/tokens/${ids.spareToken}`,
    null,
    // The owner's token: staff may not revoke it (404, as for anything not theirs); the owner may.
    { 'other partner': 404, 'staff none': 404, 'staff limited': 404, 'staff full': 404, owner: 204 },
  ],
  // Webhooks: the partner's owners only.
  [
    'GET',
    '/v1/webhooks',
    () => `/v1/webhooks`,
    null,
    { 'other partner': 200, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'POST',
    '/v1/webhooks',
    () => `/v1/webhooks`,
    () => ({ url: 'https://8.8.8.8/matrix', events: ['operation.failed'] }),
    { 'other partner': 201, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 201 },
  ],
  [
    'GET',
    '/v1/webhooks/{id}',
    () => `/v1/webhooks/${ids.webhook}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'PATCH',
    '/v1/webhooks/{id}',
    () => `/v1/webhooks/${ids.webhook}`,
    () => ({ description: 'M' }),
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'POST',
    '/v1/webhooks/{id}/rotate-secret',
    () => `/v1/webhooks/${ids.webhook}/rotate-secret`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'POST',
    '/v1/webhooks/{id}/test',
    () => `/v1/webhooks/${ids.webhook}/test`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 202 },
  ],
  [
    'GET',
    '/v1/webhooks/{id}/deliveries',
    () => `/v1/webhooks/${ids.webhook}/deliveries`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'GET',
    '/v1/webhooks/{id}/deliveries/{deliveryId}',
    () => `/v1/webhooks/${ids.webhook}/deliveries/${ids.webhookDelivery}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 200 },
  ],
  [
    'POST',
    '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    () => `/v1/webhooks/${ids.webhook}/deliveries/${ids.webhookDelivery}/redeliver`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 202 },
  ],
  [
    'DELETE',
    '/v1/webhooks/{id}',
    () => `/v1/webhooks/${ids.deletableWebhook}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 403, owner: 204 },
  ],
  // Last: it ends a delegation (a second end is a no-op).
  [
    'DELETE',
    '/v1/delegations/{id}',
    () => `/v1/delegations/${ids.ending}`,
    null,
    { 'other partner': 404, 'staff none': 403, 'staff limited': 403, 'staff full': 200, owner: 200 },
  ],
];

describe('authorization matrix', () => {
  it('covers every route of the OpenAPI document', async () => {
    const document = (await (await stack.request('/openapi.json')).json()) as { paths: Record<string, object> };
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      path.startsWith('/v1/') ? Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`) : [],
    );
    const covered = new Set(table.map(([method, route]) => `${method} ${route}`));
    expect([...covered].sort()).toEqual(documented.sort());
  });

  const cases = table.flatMap(([method, route, path, body, byCaller]) =>
    callers.map((caller) => [method, route, caller, { ...unauthenticated, ...byCaller }[caller], path, body] as const),
  );
  it.each(cases)('%s %s as %s → %i', async (method, _route, caller, status, path, body) => {
    const response = await stack.request(path(), {
      method,
      ...(tokens[caller] ? { token: tokens[caller] } : {}),
      ...(body ? { json: body() } : {}),
    });
    expect(response.status, `${method} ${path()} as ${caller}`).toBe(status);
    await response.body?.cancel();
  });

  // Access none: nothing of the partner's but their own tokens, refused as every 403 is.
  const readsRefusedToNone = table.filter(
    ([method, , , , byCaller]) => method === 'GET' && byCaller['staff none'] === 403,
  );
  it.each(readsRefusedToNone)('%s %s as staff none → NOT_AUTHORIZED', async (_method, _route, path) => {
    const response = await stack.request(path(), { token: tokens['staff none'] as string });
    expect((await readProblem(response)).code).toBe('NOT_AUTHORIZED');
  });
});

/**
 * The same routes with the tokens that fail before the route's own checks: the owner's
 * without the scope the route declares (403 INSUFFICIENT_SCOPE), an expired one and a
 * revoked one, and a removed staff member's (401 UNAUTHENTICATED). Only the /v1/tokens
 * routes that judge scopes themselves declare none.
 */
describe('authorization matrix: scopes, expiry, revocation, removal', () => {
  let needed: Map<string, TokenScope | null>;
  beforeAll(async () => {
    const document = (await (await stack.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: { bearer?: TokenScope[] }[] }>>;
    };
    needed = new Map(
      Object.entries(document.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [
          `${method.toUpperCase()} ${path}`,
          op.security?.[0]?.bearer?.[0] ?? null,
        ]),
      ),
    );
  });

  it('every route declares one scope, but creating and revoking tokens', () => {
    const unscoped = table.map(([m, r]) => `${m} ${r}`).filter((key) => needed.get(key) === null);
    expect(unscoped.sort()).toEqual(['DELETE /v1/tokens/{id}', 'POST /v1/tokens']);
    for (const [method, route] of table) {
      if (method === 'GET') expect(needed.get(`${method} ${route}`)).toBe('read');
    }
  });

  const cases = table.flatMap(([method, route, path, body]) =>
    (['missing scope', 'expired', 'revoked', 'of a removed staff member'] as const).map(
      (kind) => [method, route, kind, path, body] as const,
    ),
  );
  it.each(cases)('%s %s with a token %s', async (method, route, kind, path, body) => {
    const scope = needed.get(`${method} ${route}`);
    if (kind === 'missing scope' && !scope) return;
    const token = kind === 'missing scope' ? lacking[scope as TokenScope] : spoiled[kind];
    const response = await stack.request(path(), { method, token, ...(body ? { json: body() } : {}) });
    const expected = kind === 'missing scope' ? [403, 'INSUFFICIENT_SCOPE'] : [401, 'UNAUTHENTICATED'];
    expect([response.status, (await readProblem(response)).code], `${method} ${path()} ${kind}`).toEqual(expected);
  });
});
