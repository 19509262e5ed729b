import { Hono } from 'hono';
import pino from 'pino';
import { expect, it } from 'vitest';
import { requestDeadline } from '../../api/deadline.ts';
import type { AppEnv } from '../../api/env.ts';

function app(deadlineMs: number, handlerMs: number) {
  const app = new Hono<AppEnv>();
  app.use('*', (c, next) => {
    c.set('logger', pino({ level: 'silent' }));
    return next();
  });
  app.use('*', requestDeadline(deadlineMs));
  app.get('/work', async (c) => {
    await new Promise((r) => setTimeout(r, handlerMs));
    return c.json({ done: true });
  });
  return app;
}

it('answers 503 DEADLINE_EXCEEDED when the request has not answered by its deadline', async () => {
  const started = performance.now();
  const response = await app(100, 1000).request('/work');
  expect(performance.now() - started).toBeLessThan(800);
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('retry-after')).toBe('5');
  expect(((await response.json()) as { code: string }).code).toBe('DEADLINE_EXCEEDED');
});

it('lets a request that answers in time through, and 0 turns the deadline off', async () => {
  expect((await app(500, 10).request('/work')).status).toBe(200);
  expect((await app(0, 50).request('/work')).status).toBe(200);
});
