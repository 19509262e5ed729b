import type { OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { AppError } from '../core/errors.ts';
import { isId } from '../core/ids.ts';
import { isTokenScope, type TokenScope } from '../core/token-scopes.ts';
import { authenticateApiToken } from '../services/shared/principals.ts';
import type { AppEnv } from './env.ts';
import { utcMinute } from './web/shared/format.ts';

/**
 * The scope each partner API route needs, read from the routes' own `security`
 * declarations (api/schemas.ts `needsScope`), keyed `METHOD /hono/:path`. `null`: any
 * valid token (`anyTokenSecurity`). Built once the routes are registered; a /v1 route
 * that declares neither stops the start, so no route is open to every scope by mistake —
 * and so does a /v1 handler added outside the OpenAPI routes (`app.get`, `app.all`),
 * which has no declaration to read. A route added after this runs is refused at request
 * time (`requirePartnerToken`).
 */
export type RouteScopes = ReadonlyMap<string, TokenScope | null>;

/**
 * Middleware of the whole /v1 area (`app.use('/v1/*')`, `app.use('*')`), not a handler:
 * when it is the last route a request matched, no handler did, and the request ends in
 * the 404. Hono records `use` under the method ALL.
 */
const isAreaMiddleware = (route: { method: string; path: string }) =>
  route.method === 'ALL' && route.path.endsWith('*');

export function routeScopes(app: OpenAPIHono<AppEnv>): RouteScopes {
  const scopes = new Map<string, TokenScope | null>();
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route' || !definition.route.path.startsWith('/v1/')) continue;
    const { method, path, security } = definition.route;
    const declared = security?.flatMap((requirement) => requirement.bearer ?? []) ?? [];
    const key = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
    if (!security?.some((requirement) => requirement.bearer)) throw new Error(`${key} declares no bearer security`);
    if (declared.length > 1 || !declared.every(isTokenScope)) throw new Error(`${key}: one known scope at most`);
    scopes.set(key, declared[0] ?? null);
  }
  for (const route of app.routes) {
    if (!route.path.startsWith('/v1/') || isAreaMiddleware(route)) continue;
    if (!scopes.has(`${route.method} ${route.path}`)) {
      throw new Error(`${route.method} ${route.path} is served outside the OpenAPI routes: it declares no scope`);
    }
  }
  return scopes;
}

/**
 * Requires `Authorization: Bearer <token>` of a partner user and puts the principal on
 * `c.var.principal`. An unknown or revoked token is the same 401, with no hint whether it
 * existed; an expired one says so (its holder has it in hand). Then the scope the matched
 * route declares: missing → 403 INSUFFICIENT_SCOPE. `scopes` is read on each request, as
 * it is filled once the routes are registered, after this middleware.
 */
/**
 * The route whose read goes with the token's own statement (its hottest read): one
 * statement per request, and the token still checked on each (services/shared/principals.ts).
 */
const readsDelegation = 'GET /v1/delegations/:id';

export function requirePartnerToken(scopes: () => RouteScopes) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // The last matched route is the handler this request will reach (middleware comes
    // first). Only the area's middleware matched → no handler, and the request ends in the
    // 404.
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    const handler = matchedRoutes(c).at(-1);
    const routeKey = handler ? `${method} ${handler.path}` : '';
    // GET /v1/delegations/{id}: the token's statement reads the delegation too.
    // Only a well-formed id is read there; anything else is left to the handler's own 404.
    const pathId = routeKey === readsDelegation ? c.req.path.split('/')[3] : undefined;
    const delegationId = pathId !== undefined && isId('delegation', pathId) ? pathId : undefined;
    const found = match?.[1]
      ? await authenticateApiToken(
          c.var.deps.db,
          match[1],
          (err) => c.var.logger.warn({ err }, 'could not record the API token use'),
          { delegationId },
        )
      : null;
    if (!found) throw new AppError('UNAUTHENTICATED', 'A valid partner API token is required');
    const { secondFactorMissing, expired, delegationRead, ...principal } = found;
    // Known from here, refused or not: a refusal below is recorded as this caller's (api/app.ts).
    c.set('principal', principal);
    if (delegationId !== undefined) c.set('delegationRead', delegationRead);
    if (expired) {
      throw new AppError(
        'UNAUTHENTICATED',
        `This API token expired on ${utcMinute(principal.token.expiresAt)} UTC: create a new one on the dashboard (/dashboard/tokens).`,
      );
    }
    // The partner requires two-factor sign-in: its staff's tokens work once they have set it up.
    if (secondFactorMissing) {
      throw new AppError(
        'SECOND_FACTOR_REQUIRED',
        'Your partner requires two-factor sign-in: sign in on the dashboard and set it up, then this token works again.',
      );
    }
    // A handler with no declaration is refused, whatever the token: fail closed.
    const needed = handler ? scopes().get(routeKey) : undefined;
    if (needed === undefined && handler && !isAreaMiddleware(handler)) {
      c.var.logger.error({ route: handler.path, method }, 'a /v1 route declares no token scope: refused');
      throw new AppError('NOT_AUTHORIZED', 'This route declares no token scope, so no token may use it.');
    }
    if (needed && !principal.token.scopes.includes(needed)) {
      throw new AppError('INSUFFICIENT_SCOPE', `This API token does not have the scope \`${needed}\` this needs.`, {
        details: { requiredScope: needed },
      });
    }
    // A child of the process logger rather than of the request's: the same bindings, one
    // level fewer (pino serializes a child's bindings when it is made, on every request).
    c.set(
      'logger',
      c.var.deps.logger.child({ requestId: c.var.requestId, userId: principal.userId, partnerId: principal.partnerId }),
    );
    await next();
  });
}
