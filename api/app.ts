import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { AppError, isAppError } from '../core/errors.ts';
import type { Deps } from '../lib/deps.ts';
import type { Logger } from '../lib/logger.ts';
import { recordAudit } from '../services/audit/record.ts';
import { type RouteScopes, requirePartnerToken, routeScopes } from './auth.ts';
import { requestDeadline } from './deadline.ts';
import type { App, AppEnv } from './env.ts';
import { idempotency } from './idempotency.ts';
import { observeHttpRequest } from './metrics.ts';
import { openApiInfo, registerApiRoutes } from './openapi.ts';
import { fieldIssues, logRequestError, problemResponse, toAppError } from './problem.ts';
import { createWebApp } from './web/app.ts';
import { notFoundPage } from './web/shared/error-page.tsx';

/** Largest body of any JSON route except campaign uploads. */
const MAX_JSON_BYTES = 1024 * 1024;

const tooLarge = (): never => {
  throw new AppError('PAYLOAD_TOO_LARGE');
};

/**
 * The HTTP application: the partner API under /v1, health checks and the OpenAPI
 * document. Built per `Deps`, so tests can run several side by side in one process.
 */
/**
 * A request the API refused a known partner caller (403, or 401 for a token of theirs that
 * expired) goes into the partner's trail: who, with which token, which route (its pattern —
 * a path may carry a token), which code; never the body. A failure to record is logged and does not change the answer.
 */
async function recordDenied(c: Context<AppEnv>, appError: AppError, logger: Logger): Promise<void> {
  const { principal } = c.var;
  try {
    // One record a minute per token, route and code: repeating a refusal adds nothing new.
    const key = `${principal.tokenId ?? principal.userId}|${c.req.method} ${routePath(c, -1)}|${appError.code}`;
    const first = await c.var.deps.rateLimits
      .consume('deniedRecordPerTokenRoute', key)
      .then(() => true)
      .catch((error: unknown) => {
        if (isAppError(error, 'RATE_LIMITED')) return false;
        throw error;
      });
    if (!first) return;
    await recordAudit(c.var.deps.db, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'api.denied',
      targetType: 'route',
      targetId: routePath(c, -1),
      outcome: 'rejected',
      requestId: c.var.requestId,
      detail: { method: c.req.method, route: routePath(c, -1), code: appError.code, tokenId: principal.tokenId },
    });
  } catch (error) {
    logger.error({ err: error }, 'could not record a refused request');
  }
}

export function createApp(deps: Deps): App {
  const app: App = new OpenAPIHono<AppEnv>({
    // Every schema failure (body, query, path) becomes one 422 with the field issues.
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError('VALIDATION_FAILED', 'The request is not valid', { issues: fieldIssues(result.error) });
      }
    },
  });

  // Ids are always ours (a client-chosen id would end up in the audit trail); the
  // response carries it so a client can quote it.
  app.use('*', requestId({ headerName: '' }));
  app.use('*', async (c, next) => {
    c.header('X-Request-Id', c.var.requestId);
    await next();
  });
  app.use('*', async (c, next) => {
    const started = performance.now();
    c.set('deps', deps);
    c.set('logger', deps.logger.child({ requestId: c.var.requestId }));
    await next();
    const route = routePath(c, -1);
    const ms = performance.now() - started;
    observeHttpRequest(c.req.method, route, c.res.status, ms / 1000);
    c.var.logger.info({ method: c.req.method, route, status: c.res.status, ms: Math.round(ms) }, 'request');
  });

  // Authenticate before anything reads the body: an anonymous client must not make the
  // server buffer megabytes (the token check never touches the body). The scope each route
  // needs comes from the routes' own declarations, read once they are registered (below).
  let scopes: RouteScopes = new Map();
  // Before anything that waits on PostgreSQL or Redis, the token check included.
  app.use('/v1/*', requestDeadline(deps.config.requestTimeoutMs));
  app.use(
    '/v1/*',
    requirePartnerToken(() => scopes),
  );
  const uploadLimit = bodyLimit({ maxSize: deps.config.maxUploadBytes, onError: tooLarge });
  const jsonLimit = bodyLimit({ maxSize: MAX_JSON_BYTES, onError: tooLarge });
  // GET and HEAD never carry a body here, and asking for one (all bodyLimit does with
  // them) makes @hono/node-server build a full Request: ~10% of a GET's CPU, for nothing.
  app.use('/v1/*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD'
      ? next()
      : c.req.method === 'POST' && c.req.path === '/v1/campaigns'
        ? uploadLimit(c, next)
        : jsonLimit(c, next),
  );
  app.use('/v1/*', idempotency);

  // The HTML pages, with their own middleware and error pages (api/web/app.ts).
  app.route('/', createWebApp(deps));
  registerApiRoutes(app);
  scopes = routeScopes(app);
  app.doc31('/openapi.json', openApiInfo(deps.config.publicUrl));

  // Unmatched addresses under an HTML area's paths (the area claimed them: `pageArea`) get
  // that area's 404 page; Hono does not ask a mounted app's notFound.
  app.notFound((c) =>
    c.var.pageHome
      ? notFoundPage(c)
      : problemResponse(c, new AppError('NOT_FOUND', 'There is nothing at this address.')),
  );
  app.onError(async (error, c) => {
    const appError = toAppError(error);
    const logger = c.var.logger ?? deps.logger;
    logRequestError(logger, appError, error, routePath(c, -1));
    // A known caller refused (a 403, or a known token that expired): in the partner's trail.
    const refused = appError.status === 403 || appError.status === 401;
    if (refused && c.var.principal && !c.var.pageHome) await recordDenied(c, appError, logger);
    return problemResponse(c, appError);
  });
  return app;
}
