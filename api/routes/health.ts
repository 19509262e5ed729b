import { createRoute, z } from '@hono/zod-openapi';
import { checkReadiness } from '../../services/maintenance/health.ts';
import type { App } from '../env.ts';

const Dependency = z.object({ ok: z.boolean(), latencyMs: z.number().optional() });
const Readiness = z
  .object({
    ok: z.boolean(),
    queueBackend: z.enum(['redis', 'postgres']).openapi({ description: 'Where the queues live' }),
    checks: z
      .object({ postgres: Dependency, redis: Dependency.optional(), queue: Dependency.optional() })
      .openapi({ description: '`redis` with the Redis queue backend; `queue` (PostgreSQL) with the PostgreSQL one.' }),
  })
  .openapi('Readiness');

export const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getLiveness',
  tags: ['Health'],
  summary: 'The process is up',
  // Public: probes (a load balancer, an orchestrator) carry no token.
  security: [],
  responses: {
    200: { description: 'Up', content: { 'application/json': { schema: z.object({ ok: z.literal(true) }) } } },
  },
});

export const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['Health'],
  summary: 'PostgreSQL and the queue backend are reachable',
  security: [],
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Readiness } } },
    503: { description: 'A dependency is unreachable', content: { 'application/json': { schema: Readiness } } },
  },
});

export const registerHealth = (app: App) => {
  app.openapi(healthzRoute, (c) => c.json({ ok: true as const }, 200));
  app.openapi(readyzRoute, async (c) => {
    const readiness = await checkReadiness(c.var.deps);
    return readiness.ok ? c.json(readiness, 200) : c.json(readiness, 503);
  });
};
