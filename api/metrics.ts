import { timingSafeEqual } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { AppError } from '../core/errors.ts';
import type { Deps } from '../lib/deps.ts';
import { metricsContentType, scrapeMetrics } from '../lib/metrics.ts';
import { sha256Hex } from '../lib/secrets.ts';
import type { App, AppEnv } from './env.ts';
import { isLocalClient } from './local-client.ts';
import { problemResponse, toAppError } from './problem.ts';
import { ProblemSchema } from './schemas.ts';

export { observeHttpRequest } from '../lib/metrics.ts';

/** Compares digests, so neither the token nor its length leaks through timing. */
function tokenMatches(header: string | undefined, expected: string): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!presented) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(presented)), Buffer.from(sha256Hex(expected)));
}

/** METRICS_TOKEN when set (401 without it), else loopback clients only (403). */
const requireMetricsAccess = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.var.deps.config.metricsToken;
  if (token) {
    if (!tokenMatches(c.req.header('authorization'), token)) {
      throw new AppError('UNAUTHENTICATED', 'The metrics token (METRICS_TOKEN) is required');
    }
  } else if (!isLocalClient(c)) {
    throw new AppError('NOT_AUTHORIZED', 'Metrics are served to this machine only unless METRICS_TOKEN is set');
  }
  await next();
});

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['Health'],
  summary: 'Prometheus metrics of this process',
  description:
    'Prometheus text exposition: jobs, job durations, queue depth, emails by outcome, delegations by state, ' +
    'HTTP request durations. With `METRICS_TOKEN` set it needs `Authorization: Bearer <METRICS_TOKEN>`; ' +
    'without, it answers only clients on the loopback interface. Not for partner API tokens.',
  security: [{ metricsToken: [] }],
  middleware: [requireMetricsAccess] as const,
  responses: {
    200: { description: 'The metrics', content: { 'text/plain': { schema: z.string() } } },
    401: problem('`METRICS_TOKEN` is set and the request does not carry it (`UNAUTHENTICATED`)'),
    403: problem('No `METRICS_TOKEN` is set and the client is not on the loopback interface (`NOT_AUTHORIZED`)'),
  },
});

/** Serves Prometheus metrics at /metrics. */
export function registerMetricsEndpoint(app: App): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'metricsToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The `METRICS_TOKEN` of the server (for /metrics only).',
  });
  app.openapi(metricsRoute, async (c) => {
    const text = await scrapeMetrics(c.var.deps);
    return c.text(text, 200, { 'content-type': metricsContentType, 'cache-control': 'no-store' });
  });
}

/**
 * The /metrics endpoint alone, for processes without the API (a worker started with
 * METRICS_PORT): the same access rules and problem+json errors.
 */
export function createMetricsApp(deps: Deps): App {
  const app: App = new OpenAPIHono<AppEnv>();
  app.use('*', requestId({ headerName: '' }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    c.set('logger', deps.logger.child({ requestId: c.var.requestId }));
    await next();
  });
  registerMetricsEndpoint(app);
  app.notFound((c) => problemResponse(c, new AppError('NOT_FOUND', 'Only /metrics is served here.')));
  app.onError((error, c) => {
    const appError = toAppError(error);
    if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'metrics endpoint failed');
    return problemResponse(c, appError);
  });
  return app;
}
