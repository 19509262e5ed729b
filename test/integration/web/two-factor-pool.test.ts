import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { enrolTotp, wrongCode } from '../../helpers/two-factor.ts';

/**
 * Without Redis the sign-in limits are kept in PostgreSQL, through the same pool as
 * everything else. A code check that counted its attempt from inside its transaction (while
 * holding the challenge's row lock) could exhaust a small pool with a handful of
 * simultaneous submissions and hang every request of the process: the attempt is counted
 * before the transaction.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack({ env: { QUEUE_BACKEND: 'postgres', DATABASE_POOL_SIZE: '3' } });
});
afterAll(() => stack.close());

describe('simultaneous codes on a small pool, limits in PostgreSQL', () => {
  it('all answer, and the process keeps answering', async () => {
    const owner = await createTestPartner(stack);
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    await browser.post('/sign-in', { email: owner.email, password: owner.password, next: '/dashboard' });
    const { secret } = await enrolTotp(browser);
    await browser.post('/sign-out');

    const signingIn = new PageClient(stack);
    await signingIn.get('/sign-in');
    await signingIn.post('/sign-in', { email: owner.email, password: owner.password, next: '/dashboard' });
    await signingIn.get('/sign-in/two-factor?next=%2Fdashboard');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        signingIn.post('/sign-in/two-factor', { code: wrongCode(secret), next: '/dashboard' }),
      ),
    );
    for (const answer of answers) expect([401, 429]).toContain(answer.status);
    expect((await stack.request('/healthz')).status).toBe(200);
  });
});
