import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowCounts } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Random and malformed input against the partner API's request schemas: whatever arrives,
 * the answer is never a 5xx, every error is problem+json, and a refused request changes
 * nothing in the database.
 */
let stack: TestStack;
let token: string;
let offerId: string;
let delegationId: string;

beforeAll(async () => {
  stack = await createTestStack();
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  ({ delegationId } = await activateDelegation(stack, fixture));
  token = fixture.partner.token;
  offerId = fixture.offer.id;
});
afterAll(() => stack.close());

/** Strings that have broken parsers before: control characters, lone surrogates, huge, odd unicode. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\r\nBcc: x@evil.example',
    "'; drop table offers; --",
    '<script>alert(1)</script>',
    '\u202etxt.exe',
    '',
  ),
  fc.string({ minLength: 5000, maxLength: 20_000 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);
const scalar = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 5 }), fc.dictionary(nasty, scalar, { maxKeys: 4 }));

/** Bodies shaped like each route's, with every field replaced by anything; and anything at all. */
function bodies(fields: string[]) {
  return fc.oneof(
    fc.record(Object.fromEntries(fields.map((f) => [f, value])), { requiredKeys: [] }).map((b) => JSON.stringify(b)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
}

const routes: [string, () => string, string[]][] = [
  ['/v1/offers', () => '/v1/offers', ['name', 'access', 'durationDays', 'autoExtend', 'expiresInDays']],
  ['/v1/campaigns', () => '/v1/campaigns', ['offerId', 'name', 'recipients']],
  ['/v1/staff', () => '/v1/staff', ['email', 'displayName', 'access']],
  [
    '/v1/delegations/{id}/users',
    () => `/v1/delegations/${delegationId}/users`,
    ['displayName', 'userName', 'notifyEmail'],
  ],
  ['/v1/delegations/{id}/domains', () => `/v1/delegations/${delegationId}/domains`, ['name']],
  ['/v1/delegations/{id}/extend', () => `/v1/delegations/${delegationId}/extend`, ['days']],
  [
    '/v1/delegations/{id}/amendments',
    () => `/v1/delegations/${delegationId}/amendments`,
    ['addRoles', 'removeRoles', 'extendDays', 'autoExtend'],
  ],
];

describe('random and malformed bodies', () => {
  it.each(routes)('POST %s never answers 5xx and a refusal writes nothing', async (_name, path, fields) => {
    await fc.assert(
      fc.asyncProperty(bodies(fields), async (body) => {
        const before = await rowCounts(stack);
        const response = await stack.request(path(), {
          method: 'POST',
          token,
          body: body.replaceAll('__OFFER__', offerId),
          headers: { 'content-type': 'application/json' },
        });
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers.get('content-type')).toBe('application/problem+json');
          expect(await rowCounts(stack)).toEqual(before);
        } else {
          await response.body?.cancel();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('POST /v1/campaigns with the real offer and random recipients reaches the insert: never 5xx, a refusal writes nothing', async () => {
    // The offer is the partner's own, so bodies get past it to the recipients' validation and the insert.
    const recipient = fc.record(
      {
        email: fc.oneof(
          fc.emailAddress(),
          nasty,
          fc.constantFrom('a@b.example', 'UPPER@Case.Example', 'x@-bad-.example'),
        ),
        name: fc.oneof(nasty, fc.constant(null)),
        company: fc.oneof(nasty, fc.constant(null)),
      },
      { requiredKeys: ['email'] },
    );
    const body = fc.record(
      {
        offerId: fc.constant(offerId),
        name: fc.oneof(nasty, fc.constant(undefined)),
        recipients: fc.array(recipient, { maxLength: 6 }),
      },
      { requiredKeys: ['offerId', 'recipients'] },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, async (json) => {
        const before = await rowCounts(stack);
        const response = await stack.request('/v1/campaigns', { method: 'POST', token, json });
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers.get('content-type')).toBe('application/problem+json');
          expect(await rowCounts(stack)).toEqual(before);
          return;
        }
        accepted++;
        const created = (await response.json()) as { id: string; total: number };
        const [row] = await stack.deps
          .sql`select count(*)::int as n from delegations where campaign_id = ${created.id}`;
        expect(row?.n).toBe(created.total);
      }),
      { numRuns: 80 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('random query strings on the list routes never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/offers', '/v1/campaigns', '/v1/delegations', '/v1/operations', '/v1/audit'),
        fc.dictionary(
          fc.constantFrom('limit', 'cursor', 'state', 'campaignId', 'expiringWithinDays', 'clientOrgId', 'x'),
          nasty,
          { maxKeys: 3 },
        ),
        async (path, query) => {
          const response = await stack.request(`${path}?${new URLSearchParams(query)}`, { token });
          expect(response.status).toBeLessThan(500);
          await response.body?.cancel();
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('injection attempts are only text', () => {
  it('SQL in a name is stored as it was typed, and nothing else happens', async () => {
    const name = "Robert'); DROP TABLE offers; --";
    const response = await stack.request('/v1/offers', { method: 'POST', token, json: { name, access: 'limited' } });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    expect((await stack.deps.sql`select name from offers where id = ${id}`)[0]?.name).toBe(name);
    expect((await stack.deps.sql`select count(*)::int as n from offers`)[0]?.n).toBeGreaterThan(1);
  });

  it('line breaks in names cannot reach an email header: they are refused', async () => {
    for (const json of [
      { name: 'Acme\r\nBcc: victim@evil.example', access: 'limited' },
      { offerId, name: 'Spring\nX-Injected: yes', recipients: [{ email: 'a@x.example' }] },
    ]) {
      const path = 'recipients' in json ? '/v1/campaigns' : '/v1/offers';
      expect((await stack.request(path, { method: 'POST', token, json })).status).toBe(422);
    }
    const rejected = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId, recipients: [{ email: 'b@x.example', name: 'Eve\r\nBcc: victim@evil.example' }] },
    });
    // Its only recipient refused: no campaign at all (NO_VALID_RECIPIENTS), the row listed.
    expect(rejected.status).toBe(422);
    const body = (await rejected.json()) as { code: string; rejected: { reason: string }[] };
    expect(body.code).toBe('NO_VALID_RECIPIENTS');
    expect(body.rejected[0]?.reason).toBe('name contains control characters');
  });
});
