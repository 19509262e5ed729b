import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner, readProblem, rowCounts } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

const LIMIT = 5;
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack({ env: { PARTNER_DAILY_SEND_LIMIT: String(LIMIT) } });
});
afterAll(() => stack.close());

/** A partner with an offer, and a way to send it to `n` recipients (JSON or CSV). */
async function partner() {
  const { token, partnerId } = await createTestPartner(stack);
  const offerId = (await createTestOffer(stack, token)).id;
  let sent = 0;
  const emails = (n: number) => Array.from({ length: n }, () => `r${sent++}@client.example`);
  return {
    partnerId,
    send: (n: number) =>
      stack.request('/v1/campaigns', {
        method: 'POST',
        token,
        json: { offerId, recipients: emails(n).map((email) => ({ email })) },
      }),
    sendCsv: (n: number) =>
      stack.request(`/v1/campaigns?offerId=${offerId}`, {
        method: 'POST',
        token,
        body: ['email', ...emails(n)].join('\n'),
        headers: { 'content-type': 'text/csv' },
      }),
  };
}

/** Expects a 429 DAILY_SEND_LIMIT_EXCEEDED that wrote nothing; returns the problem and the response. */
async function expectOverQuota(request: () => Promise<Response>) {
  const before = await rowCounts(stack);
  const response = await request();
  expect(response.status).toBe(429);
  const problem = await readProblem(response);
  expect(problem.code).toBe('DAILY_SEND_LIMIT_EXCEEDED');
  expect(await rowCounts(stack)).toEqual(before);
  return { problem: problem as typeof problem & Record<string, unknown>, response };
}

describe('PARTNER_DAILY_SEND_LIMIT', () => {
  it('refuses a campaign that would take the last 24 hours over the limit, says how many are left and when', async () => {
    const a = await partner();
    expect((await a.send(3)).status).toBe(202);
    const { problem, response } = await expectOverQuota(() => a.send(3));
    expect(problem.detail).toBe(
      'This campaign has 3 recipients, but only 2 more may be sent today: the partner has sent to 3 of its 5 recipients a day (the last 24 hours) already.',
    );
    expect(problem).toMatchObject({ limit: LIMIT, used: 3, requested: 3, remaining: 2 });
    // The first campaign leaves the window 24 hours after it was created.
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(24 * 3600 - 60);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    // What is left may still be sent, to the exact limit.
    expect((await a.send(2)).status).toBe(202);
    await expectOverQuota(() => a.send(1));
  });

  it('applies to CSV uploads too', async () => {
    const a = await partner();
    expect((await a.sendCsv(4)).status).toBe(202);
    await expectOverQuota(() => a.sendCsv(2));
  });

  it('counts each partner apart', async () => {
    const a = await partner();
    const b = await partner();
    expect((await a.send(LIMIT)).status).toBe(202);
    expect((await b.send(LIMIT)).status).toBe(202);
  });

  it('counts only the campaigns of the last 24 hours', async () => {
    const a = await partner();
    const first = (await (await a.send(4)).json()) as { id: string };
    await expectOverQuota(() => a.send(4));
    await stack.deps.sql`update campaigns set created_at = now() - interval '24 hours 1 minute' where id = ${first.id}`;
    expect((await a.send(4)).status).toBe(202);
  });

  it('refuses a campaign larger than the limit itself, with no time to come back', async () => {
    const a = await partner();
    const { problem, response } = await expectOverQuota(() => a.send(LIMIT + 1));
    expect(problem.detail).toBe(
      'This campaign has 6 recipients, more than the 5 the partner may send to in a day (the last 24 hours): split it over several days.',
    );
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('lets only one of two concurrent campaigns through when both would not fit', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await partner();
      const answers = await Promise.all([a.send(3), a.send(3)]);
      expect(answers.map((r) => r.status).sort()).toEqual([202, 429]);
      const [row] = await stack.deps
        .sql`select sum(total)::int as sent from campaigns where partner_id = ${a.partnerId}`;
      expect(row?.sent).toBe(3);
    }
  });
});
