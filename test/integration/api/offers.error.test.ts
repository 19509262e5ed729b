import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, readProblem, rowCounts } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await createTestStack();
  ({ token } = await createTestPartner(stack));
});
afterAll(() => stack.close());

const post = (body: string, contentType = 'application/json') =>
  stack.request('/v1/offers', { method: 'POST', token, body, headers: { 'content-type': contentType } });

describe('POST /v1/offers with bad input', () => {
  it.each([
    ['malformed JSON', '{"name": "x", ', 400, 'MALFORMED_JSON'],
    ['a JSON array', '[]', 422, 'VALIDATION_FAILED'],
    ['an empty object', '{}', 422, 'VALIDATION_FAILED'],
    ['an unknown access level', '{"name":"x","access":"admin"}', 422, 'VALIDATION_FAILED'],
    ['a duration as a string', '{"name":"x","access":"limited","durationDays":"30"}', 422, 'VALIDATION_FAILED'],
    ['a zero duration', '{"name":"x","access":"limited","durationDays":0}', 422, 'VALIDATION_FAILED'],
    ['a 731-day duration', '{"name":"x","access":"limited","durationDays":731}', 422, 'VALIDATION_FAILED'],
    ['a fractional duration', '{"name":"x","access":"limited","durationDays":1.5}', 422, 'VALIDATION_FAILED'],
    ['an unknown field', '{"name":"x","access":"limited","color":"red"}', 422, 'VALIDATION_FAILED'],
    ['a blank name', '{"name":"   ","access":"limited"}', 422, 'VALIDATION_FAILED'],
    ['a name with a line break', '{"name":"a\\r\\nBcc: x@y.z","access":"limited"}', 422, 'VALIDATION_FAILED'],
    ['a name with a null byte', '{"name":"a\\u0000b","access":"limited"}', 422, 'VALIDATION_FAILED'],
    ['a 201-character name', JSON.stringify({ name: 'x'.repeat(201), access: 'limited' }), 422, 'VALIDATION_FAILED'],
    ['auto-extend with full access', '{"name":"x","access":"full","autoExtend":true}', 422, 'VALIDATION_FAILED'],
  ])('%s → %i %s, nothing written', async (_label, body, status, code) => {
    const before = await rowCounts(stack);
    const response = await post(body);
    expect(response.status).toBe(status);
    expect((await readProblem(response)).code).toBe(code);
    expect(await rowCounts(stack)).toEqual(before);
  });

  it('names the offending field', async () => {
    const problem = await readProblem(await post('{"name":"x","access":"full","autoExtend":true}'));
    expect(problem.errors).toEqual([{ path: 'autoExtend', message: 'auto-extend is not allowed with full access' }]);
    const typed = await readProblem(await post('{"name":"x","access":"limited","durationDays":"30"}'));
    expect(typed.errors?.[0]?.path).toBe('durationDays');
  });

  it('refuses other content types with 415', async () => {
    const response = await post('name=x&access=limited', 'application/x-www-form-urlencoded');
    expect(response.status).toBe(415);
    expect((await readProblem(response)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a 10 MB body with 413 before reading it all', async () => {
    const before = await rowCounts(stack);
    const response = await post(JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024), access: 'limited' }));
    expect(response.status).toBe(413);
    expect((await readProblem(response)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await rowCounts(stack)).toEqual(before);
  });
});

describe('other offer routes with bad input', () => {
  it.each([
    ['/v1/offers?limit=0', 422],
    ['/v1/offers?limit=abc', 422],
    ['/v1/offers?limit=1001', 422],
    ['/v1/offers?cursor=not-a-cursor', 422],
  ])('GET %s → %i', async (path, status) => {
    const response = await stack.request(path, { token });
    expect(response.status).toBe(status);
    expect((await readProblem(response)).code).toBe('VALIDATION_FAILED');
  });

  it('DELETE of an unknown offer → 404', async () => {
    const response = await stack.request('/v1/offers/ofr_00000000000000000000000000000000', {
      method: 'DELETE',
      token,
    });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe('NOT_FOUND');
  });

  it('an unknown route → 404 problem', async () => {
    const response = await stack.request('/v1/nothing-here', { token });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe('NOT_FOUND');
  });
});
