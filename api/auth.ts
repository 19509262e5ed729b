import type { OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { AppError } from '../core/errors.ts';
import { isTokenScope, type TokenScope } from '../core/token-scopes.ts';
import { authenticateApiToken } from '../services/shared/principals.ts';
import type { AppEnv } from './env.ts';
import { utcMinute } from './web/shared/format.ts';

/**
 * The scope each partner API route needs, read from the routes' own `security`
 * declarations (api/schemas.ts `needsScope`), keyed `METHOD /hono/:path`. `null`: any
 * valid token (`anyTokenSecurity`). Built once the routes are registered; a /v1 route
 * that declares neither stops the start, so no route is open to every scope by mistake.
 */
export type RouteScopes = ReadonlyMap<string, TokenScope | null>;

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
  return scopes;
}

/**
 * Requires `Authorization: Bearer <token>` of a partner user and puts the principal on
 * `c.var.principal`. An unknown or revoked token is the same 401, with no hint whether it
 * existed; an expired one says so (its holder has it in hand). Then the scope the matched
 * route declares: missing → 403 INSUFFICIENT_SCOPE. `scopes` is read on each request, as
 * it is filled once the routes are registered, after this middleware.
 */
export function requirePartnerToken(scopes: () => RouteScopes) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const found = match?.[1]
      ? await authenticateApiToken(c.var.deps.db, match[1], (err) =>
          c.var.logger.warn({ err }, 'could not record the API token use'),
        )
      : null;
    if (!found) throw new AppError('UNAUTHENTICATED', 'A valid partner API token is required');
    const { secondFactorMissing, expired, ...principal } = found;
    // Known from here, refused or not: a refusal below is recorded as this caller's (api/app.ts).
    c.set('principal', principal);
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
    // The last matched route is the handler this request will reach (middleware comes
    // first); no handler matched → no scope, and the request ends in the 404.
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    const needed = scopes().get(`${method} ${routePath(c, -1)}`);
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
