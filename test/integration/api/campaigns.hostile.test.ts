import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, readProblem, rowCounts } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** Input that once reached PostgreSQL or blew zod's stack: always a 4xx, never a 500. */
let stack: TestStack;
let token: string;
let offerId: string;

beforeAll(async () => {
  stack = await createTestStack();
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token)).id;
});
afterAll(() => stack.close());

describe('ids that cannot exist', () => {
  it.each([
    ['GET', '/v1/campaigns/%00'],
    ['GET', '/v1/campaigns/a%00b/recipients'],
    ['GET', '/v1/delegations/a%00b'],
    ['DELETE', '/v1/offers/a%00'],
    ['DELETE', '/v1/delegations/%F0%9F%98%80'],
  ])('%s %s → 404', async (method, path) => {
    const response = await stack.request(path, { method, token });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe('NOT_FOUND');
  });

  it('a NUL byte in a filter or an offer id → 4xx, nothing written', async () => {
    expect((await stack.request('/v1/delegations?campaignId=%00', { token })).status).toBe(422);
    const before = await rowCounts(stack);
    const json = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: { offerId: 'x\u0000', recipients: [{ email: 'a@x.example' }] },
    });
    expect(json.status).toBe(404);
    const csv = await stack.request('/v1/campaigns?offerId=%00', {
      method: 'POST',
      token,
      body: 'email\na@x.example\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(csv.status).toBe(404);
    expect(await rowCounts(stack)).toEqual(before);
  });
});

describe('recipients that cannot be stored as sent', () => {
  it('rejects NUL bytes and lone surrogates per row, echoing them safely', async () => {
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: {
        offerId,
        recipients: [{ email: 'a\u0000@x.example' }, { email: '\ud800@x.example' }, { email: 'ok@x.example' }],
      },
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { total: number; rejected: { row: number; email: string }[] };
    expect(body.total).toBe(1);
    expect(body.rejected.map((r) => r.row)).toEqual([1, 2]);
    expect(body.rejected[0]?.email).toBe('a@x.example');
    expect(body.rejected[1]?.email).toBe('\ufffd@x.example');
  });

  it('150,000 numbers instead of recipients → 422 TOO_MANY_RECIPIENTS, not a stack overflow', async () => {
    const body = `{"offerId":"${offerId}","recipients":[${Array(150_000).fill('1').join(',')}]}`;
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(422);
    expect((await readProblem(response)).code).toBe('TOO_MANY_RECIPIENTS');
  });

  it('100,000 items of the wrong shape → 422 with at most 50 issues', async () => {
    const recipients = Array.from({ length: 100_000 }, () => ({ email: 1, name: 1, company: 1 }));
    const before = await rowCounts(stack);
    const response = await stack.request('/v1/campaigns', { method: 'POST', token, json: { offerId, recipients } });
    expect(response.status).toBe(422);
    const problem = await readProblem(response);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toHaveLength(50);
    expect(problem.errors?.[0]).toEqual({ path: 'recipients/0/email', message: 'must be a string' });
    expect(await rowCounts(stack)).toEqual(before);
  });

  it('a CSV that is not UTF-8 → 400 MALFORMED_CSV', async () => {
    const latin1 = Buffer.from('email,name\nrene@x.example,Ren\xe9\n', 'latin1');
    const response = await stack.request(`/v1/campaigns?offerId=${offerId}`, {
      method: 'POST',
      token,
      body: latin1,
      headers: { 'content-type': 'text/csv' },
    });
    expect(response.status).toBe(400);
    expect((await readProblem(response)).code).toBe('MALFORMED_CSV');
  });

  it('names with invisible direction overrides → 422', async () => {
    const response = await stack.request('/v1/offers', {
      method: 'POST',
      token,
      json: { name: 'Acme\u202egnp.exe', access: 'limited' },
    });
    expect(response.status).toBe(422);
  });
});

describe('anonymous uploads', () => {
  it('are refused with 401 before the body is read', async () => {
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      body: 'x'.repeat(40 * 1024 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(401);
  });

  it('request ids are always the server’s own', async () => {
    const response = await stack.request('/healthz', { headers: { 'x-request-id': 'attacker-chosen' } });
    expect(response.headers.get('x-request-id')).not.toBe('attacker-chosen');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
