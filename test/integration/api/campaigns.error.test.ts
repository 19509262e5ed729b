import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, readProblem, rowCounts } from '../../helpers/factories.ts';
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

const post = (body: string, contentType = 'application/json', query = '') =>
  stack.request(`/v1/campaigns${query}`, { method: 'POST', token, body, headers: { 'content-type': contentType } });

/** Sends a request and checks the status, the problem code, and that no row was written. */
async function expectRefused(request: () => Promise<Response>, status: number, code: string) {
  const before = await rowCounts(stack);
  const response = await request();
  expect(response.status).toBe(status);
  const problem = await readProblem(response);
  expect(problem.code).toBe(code);
  expect(await rowCounts(stack)).toEqual(before);
  return problem;
}

describe('POST /v1/campaigns (JSON) with bad input', () => {
  it.each([
    ['malformed JSON', 400, 'MALFORMED_JSON', () => '{"offerId":'],
    ['no recipients field', 422, 'VALIDATION_FAILED', () => `{"offerId":"${offerId}"}`],
    ['an empty recipient list', 422, 'VALIDATION_FAILED', () => `{"offerId":"${offerId}","recipients":[]}`],
    [
      'recipients as an object',
      422,
      'VALIDATION_FAILED',
      () => `{"offerId":"${offerId}","recipients":{"email":"a@x.example"}}`,
    ],
    ['an email as a number', 422, 'VALIDATION_FAILED', () => `{"offerId":"${offerId}","recipients":[{"email":42}]}`],
    [
      'an unknown recipient field',
      422,
      'VALIDATION_FAILED',
      () => `{"offerId":"${offerId}","recipients":[{"email":"a@x.example","phone":"1"}]}`,
    ],
    [
      'a 2,000-character email',
      422,
      'VALIDATION_FAILED',
      () => JSON.stringify({ offerId, recipients: [{ email: 'a'.repeat(2000) }] }),
    ],
    ['an offer id as a number', 422, 'VALIDATION_FAILED', () => '{"offerId":7,"recipients":[{"email":"a@x.example"}]}'],
    ['an unknown offer', 404, 'NOT_FOUND', () => '{"offerId":"ofr_nope","recipients":[{"email":"a@x.example"}]}'],
  ])('%s → %i %s, nothing written', async (_label, status, code, body) => {
    await expectRefused(() => post(body()), status, code);
  });

  it('100,001 recipients → 422 TOO_MANY_RECIPIENTS, nothing written', async () => {
    const recipients = Array.from({ length: 100_001 }, (_, i) => ({ email: `r${i}@x.example` }));
    await expectRefused(() => post(JSON.stringify({ offerId, recipients })), 422, 'TOO_MANY_RECIPIENTS');
  });

  it('a revoked offer → 409 OFFER_REVOKED', async () => {
    const offer = await createTestOffer(stack, token);
    await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token });
    await expectRefused(
      () => post(JSON.stringify({ offerId: offer.id, recipients: [{ email: 'a@x.example' }] })),
      409,
      'OFFER_REVOKED',
    );
  });

  it('an expired offer → 409 OFFER_EXPIRED', async () => {
    const offer = await createTestOffer(stack, token);
    await stack.deps.sql`update offers set expires_at = now() - interval '1 minute' where id = ${offer.id}`;
    await expectRefused(
      () => post(JSON.stringify({ offerId: offer.id, recipients: [{ email: 'a@x.example' }] })),
      409,
      'OFFER_EXPIRED',
    );
  });

  it('a body over the upload limit → 413', async () => {
    const small = await createTestStack({ env: { MAX_UPLOAD_BYTES: '4096' } });
    try {
      const partner = await createTestPartner(small);
      const response = await small.request('/v1/campaigns', {
        method: 'POST',
        token: partner.token,
        json: { offerId: 'ofr_x', recipients: Array.from({ length: 500 }, (_, i) => ({ email: `r${i}@x.example` })) },
      });
      expect(response.status).toBe(413);
      expect((await readProblem(response)).code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('text/plain → 415', async () => {
    await expectRefused(() => post('a@x.example', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('POST /v1/campaigns (CSV) with bad input', () => {
  const query = () => `?offerId=${offerId}`;
  it.each([
    ['an unterminated quote', 400, 'MALFORMED_CSV', 'email,name\n"a@x.example,A\n'],
    ['too many columns in a row', 400, 'MALFORMED_CSV', 'email,name\na@x.example,A,extra\n'],
    ['a header without email', 422, 'VALIDATION_FAILED', 'name,company\nA,B\n'],
    ['an unknown column', 422, 'VALIDATION_FAILED', 'email,phone\na@x.example,1\n'],
    ['only a header', 422, 'VALIDATION_FAILED', 'email,name,company\n'],
    ['an empty body', 422, 'VALIDATION_FAILED', ''],
  ])('%s → %i %s, nothing written', async (_label, status, code, csv) => {
    await expectRefused(() => post(csv, 'text/csv', query()), status, code);
  });

  it('every recipient invalid → 422 NO_VALID_RECIPIENTS listing the rows as a 202 would, and no campaign', async () => {
    const recipients = [{ email: 'not-an-address' }, { email: 'also@bad' }, { email: 'not-an-address' }];
    const problem = await expectRefused(
      () => post(JSON.stringify({ offerId, recipients })),
      422,
      'NO_VALID_RECIPIENTS',
    );
    expect(problem.detail).toBe('None of the 3 recipients can be sent to; nothing was created');
    const { rejected } = problem as unknown as { rejected: { row: number }[] };
    expect(rejected.map((r) => r.row)).toEqual([1, 2, 3]);
  });

  it('a semicolon-separated CSV → 422 saying to use commas', async () => {
    const problem = await expectRefused(
      () => post('email;name;company\na@x.example;A;Contoso\n', 'text/csv', `?offerId=${offerId}`),
      422,
      'VALIDATION_FAILED',
    );
    expect(problem.detail).toBe('The CSV is separated by semicolons: use commas');
  });

  it('a CSV without ?offerId= → 422 naming offerId', async () => {
    const problem = await expectRefused(() => post('email\na@x.example\n', 'text/csv'), 422, 'VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'offerId', message: 'required with a text/csv body' }]);
  });

  it('a CSV bomb (a million rows) → 422 TOO_MANY_RECIPIENTS without reading it all', async () => {
    const csv = `email\n${'a@x.example\n'.repeat(1_000_000)}`;
    await expectRefused(() => post(csv, 'text/csv', query()), 422, 'TOO_MANY_RECIPIENTS');
  });
});

describe('reading campaigns with bad input', () => {
  it.each([
    ['/v1/campaigns/cmp_nope', 404, 'NOT_FOUND'],
    ['/v1/campaigns/cmp_nope/recipients', 404, 'NOT_FOUND'],
    ['/v1/campaigns?limit=-1', 422, 'VALIDATION_FAILED'],
  ])('GET %s → %i %s', async (path, status, code) => {
    const response = await stack.request(path, { token });
    expect(response.status).toBe(status);
    expect((await readProblem(response)).code).toBe(code);
  });

  it('an unknown state filter → 422', async () => {
    const created = (await (
      await post(JSON.stringify({ offerId, recipients: [{ email: 'a@x.example' }] }))
    ).json()) as { id: string };
    const response = await stack.request(`/v1/campaigns/${created.id}/recipients?state=lost`, { token });
    expect(response.status).toBe(422);
  });
});
