import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenScopes } from '../../../core/token-scopes.ts';
import { createTestPartner, createTestStaff, readProblem } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** POST/GET/DELETE /v1/tokens: scopes, expiry, revocation, and who sees and revokes what. */
let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let staffToken: string;

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack);
  staffToken = await createTestStaff(stack, owner.partnerId, ['global_admin']);
});
afterAll(() => stack.close());

async function createToken(token: string, body: unknown) {
  return stack.request('/v1/tokens', { method: 'POST', token, json: body });
}

async function created(token: string, body: Record<string, unknown>) {
  const response = await createToken(token, body);
  expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
  return (await response.json()) as { id: string; token: string; scopes: string[]; expiresAt: string };
}

/** As if the token had been made on the dashboard (no maker token): it may make tokens itself. */
async function madeOnDashboard<T extends { id: string }>(made: T): Promise<T> {
  await stack.deps.sql`update api_tokens set parent_token_id = null where id = ${made.id}`;
  return made;
}

const tokenCount = async () => Number((await stack.deps.sql`select count(*)::int as n from api_tokens`)[0]?.n);

describe('creating, listing and revoking', () => {
  it('creates a token shown once, lists it without the secret, and revokes it at once', async () => {
    const before = Date.now();
    const made = await created(owner.token, { name: 'CI', scopes: ['read'] });
    expect(made.token).toMatch(/^mdt_/);
    expect(made.scopes).toEqual(['read']);
    // The default lifetime: 90 days.
    const days = (Date.parse(made.expiresAt) - before) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThan(90.1);

    expect((await stack.request('/v1/offers', { token: made.token })).status).toBe(200);
    const list = await stack.request('/v1/tokens', { token: owner.token });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).not.toContain(made.token);
    const { items } = JSON.parse(text) as { items: { id: string; name: string; lastUsedAt: string | null }[] };
    const listed = items.find((t) => t.id === made.id);
    expect(listed).toMatchObject({ name: 'CI', scopes: ['read'] });
    // Used once just now: its last use is recorded (after the response, so wait for it).
    await expect
      .poll(
        async () => (await stack.deps.sql`select last_used_at from api_tokens where id = ${made.id}`)[0]?.last_used_at,
      )
      .not.toBeNull();

    const revoked = await stack.request(`/v1/tokens/${made.id}`, { method: 'DELETE', token: owner.token });
    expect(revoked.status).toBe(204);
    const after = await stack.request('/v1/offers', { token: made.token });
    expect(after.status).toBe(401);
    expect((await readProblem(after)).code).toBe('UNAUTHENTICATED');
    const [audit] = await stack.deps
      .sql`select count(*)::int as n from audit_events where target_id = ${made.id} and action in ('api_token.create', 'api_token.revoke')`;
    expect(audit?.n).toBe(2);
  });

  it('an expired token is 401 with the date it expired', async () => {
    const made = await created(owner.token, { name: 'old', scopes: ['read'] });
    await stack.deps.sql`update api_tokens set expires_at = '2026-01-02T03:04:00Z' where id = ${made.id}`;
    const response = await stack.request('/v1/offers', { token: made.token });
    expect(response.status).toBe(401);
    const problem = await readProblem(response);
    expect(problem.code).toBe('UNAUTHENTICATED');
    expect(problem.detail).toContain('This API token expired on 2026-01-02 03:04 UTC');
  });

  it('a token without offers:write may read offers but not create one (403 INSUFFICIENT_SCOPE)', async () => {
    const made = await created(owner.token, { name: 'reader', scopes: ['read', 'campaigns:write'] });
    expect((await stack.request('/v1/offers', { token: made.token })).status).toBe(200);
    const refused = await stack.request('/v1/offers', {
      method: 'POST',
      token: made.token,
      json: { name: 'X', access: 'limited' },
    });
    expect(refused.status).toBe(403);
    expect((await readProblem(refused)).code).toBe('INSUFFICIENT_SCOPE');
    const [offers] = await stack.deps.sql`select count(*)::int as n from offers where partner_id = ${owner.partnerId}`;
    expect(offers?.n).toBe(0);
  });
});

describe('no escalation', () => {
  it('a read token cannot create one with offers:write, nor outlive itself', async () => {
    const reader = await madeOnDashboard(
      await created(owner.token, { name: 'reader', scopes: ['read'], expiresInDays: 10 }),
    );
    const before = await tokenCount();
    const refused = await createToken(reader.token, { name: 'wider', scopes: ['read', 'offers:write'] });
    expect(refused.status).toBe(403);
    expect((await readProblem(refused)).code).toBe('INSUFFICIENT_SCOPE');
    expect(await tokenCount()).toBe(before);

    const child = await created(reader.token, { name: 'child', scopes: ['read'], expiresInDays: 365 });
    expect(child.expiresAt).toBe(reader.expiresAt);
  });

  it("a staff member cannot give a token scopes beyond their access (staff:write is owners')", async () => {
    const before = await tokenCount();
    const refused = await createToken(staffToken, { name: 'x', scopes: ['read', 'staff:write'] });
    expect(refused.status).toBe(403);
    expect((await readProblem(refused)).code).toBe('NOT_AUTHORIZED');
    expect(await tokenCount()).toBe(before);
  });

  it.each([
    ['an unknown scope', { name: 'x', scopes: ['read', 'everything'] }],
    ['no scope', { name: 'x', scopes: [] }],
    ['an expiry of 0 days', { name: 'x', scopes: ['read'], expiresInDays: 0 }],
    ['an expiry of 10,000 days', { name: 'x', scopes: ['read'], expiresInDays: 10_000 }],
    ['no name', { scopes: ['read'] }],
  ])('%s → 422 VALIDATION_FAILED, nothing created', async (_label, body) => {
    const before = await tokenCount();
    const response = await createToken(owner.token, body);
    expect(response.status).toBe(422);
    expect((await readProblem(response)).code).toBe('VALIDATION_FAILED');
    expect(await tokenCount()).toBe(before);
  });
});

describe('a token made by a token', () => {
  it('dies with the token that made it, and makes no tokens itself', async () => {
    const owner = await createTestPartner(stack);
    const parent = await madeOnDashboard(await created(owner.token, { name: 'integration', scopes: ['read'] }));
    const child = await created(parent.token, { name: 'copy', scopes: ['read'] });
    expect((await stack.request('/v1/offers', { token: child.token })).status).toBe(200);
    // A copy of a copy: refused, so one revocation always reaches every copy.
    expect((await createToken(child.token, { name: 'copy of copy', scopes: ['read'] })).status).toBe(403);
    const revoked = await stack.request(`/v1/tokens/${parent.id}`, { method: 'DELETE', token: owner.token });
    expect(revoked.status).toBe(204);
    expect((await stack.request('/v1/offers', { token: child.token })).status).toBe(401);
  });

  it("revoking someone else's token needs staff:write; one's own, no scope", async () => {
    const owner = await createTestPartner(stack);
    const readOnly = await madeOnDashboard(await created(owner.token, { name: 'read only', scopes: ['read'] }));
    const other = await created(owner.token, { name: 'other', scopes: ['read'] });
    const own = await created(readOnly.token, { name: 'own child', scopes: ['read'] });
    // The owner's read-only token revoking another token of the partner: refused.
    const refused = await stack.request(`/v1/tokens/${other.id}`, { method: 'DELETE', token: readOnly.token });
    expect(refused.status).toBe(403);
    expect((await stack.request('/v1/offers', { token: other.token })).status).toBe(200);
    // Its own child: fine (the holder's, made by it).
    expect((await stack.request(`/v1/tokens/${own.id}`, { method: 'DELETE', token: readOnly.token })).status).toBe(204);
  });
});

describe('who sees and revokes which tokens', () => {
  it("another partner's token id → 404, nothing changed", async () => {
    const other = await createTestPartner(stack);
    const [theirs] = await stack.deps.sql`select id from api_tokens where user_id = ${other.userId}`;
    const response = await stack.request(`/v1/tokens/${theirs?.id}`, { method: 'DELETE', token: owner.token });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe('NOT_FOUND');
    expect((await stack.request('/v1/offers', { token: other.token })).status).toBe(200);
  });

  it("owners list every token of the partner and revoke a staff member's; staff see and revoke only their own", async () => {
    const staffMade = await created(staffToken, { name: 'staff own', scopes: ['read'] });
    const ownerMade = await created(owner.token, { name: 'owner own', scopes: ['read'] });

    const staffList = (await (await stack.request('/v1/tokens', { token: staffToken })).json()) as {
      items: { id: string }[];
    };
    expect(staffList.items.map((t) => t.id)).toContain(staffMade.id);
    expect(staffList.items.map((t) => t.id)).not.toContain(ownerMade.id);
    expect((await stack.request('/v1/tokens?all=true', { token: staffToken })).status).toBe(403);

    const staffRevokes = await stack.request(`/v1/tokens/${ownerMade.id}`, { method: 'DELETE', token: staffToken });
    expect(staffRevokes.status).toBe(404);
    expect((await stack.request('/v1/offers', { token: ownerMade.token })).status).toBe(200);

    const all = (await (await stack.request('/v1/tokens?all=true', { token: owner.token })).json()) as {
      items: { id: string; holder: { userId: string } }[];
    };
    expect(all.items.map((t) => t.id)).toEqual(expect.arrayContaining([staffMade.id, ownerMade.id]));
    expect(JSON.stringify(all)).not.toContain(staffMade.token);

    const ownerRevokes = await stack.request(`/v1/tokens/${staffMade.id}`, { method: 'DELETE', token: owner.token });
    expect(ownerRevokes.status).toBe(204);
    expect((await stack.request('/v1/offers', { token: staffMade.token })).status).toBe(401);
  });

  it('the token printed at partner creation is ordinary: all scopes, the default expiry', async () => {
    const [row] = await stack.deps
      .sql`select scopes, expires_at - created_at as lifetime from api_tokens where user_id = ${owner.userId} and label = 'owner token'`;
    expect(row?.scopes).toEqual([...tokenScopes]);
    expect(row?.lifetime).toBe('90 days');
  });
});

describe('the secret is kept nowhere', () => {
  it('a creation with an Idempotency-Key stores no secret; its repeat creates nothing and shows none', async () => {
    const headers = { 'idempotency-key': `tok-${Date.now()}` };
    const first = await stack.request('/v1/tokens', {
      method: 'POST',
      token: owner.token,
      headers,
      json: { name: 'once', scopes: ['read'] },
    });
    expect(first.status).toBe(201);
    const { token } = (await first.json()) as { token: string };
    const stored = await stack.deps.sql`select body from idempotency_keys where key = ${headers['idempotency-key']}`;
    expect(JSON.stringify(stored)).not.toContain(token);
    const before = await tokenCount();
    const repeat = await stack.request('/v1/tokens', {
      method: 'POST',
      token: owner.token,
      headers,
      json: { name: 'once', scopes: ['read'] },
    });
    expect(repeat.status).toBe(409);
    expect(await repeat.text()).not.toContain(token);
    expect(await tokenCount()).toBe(before);
  });
});
