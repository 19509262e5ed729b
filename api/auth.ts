import { createMiddleware } from 'hono/factory';
import { AppError } from '../core/errors.ts';
import { authenticateApiToken } from '../services/shared/principals.ts';
import type { AppEnv } from './env.ts';

/**
 * Requires `Authorization: Bearer <token>` of a partner user and puts the principal on
 * `c.var.principal`. Every failure is the same 401: no hint whether a token exists.
 */
export const requirePartnerToken = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const found = match?.[1] ? await authenticateApiToken(c.var.deps.db, match[1]) : null;
  if (!found) throw new AppError('UNAUTHENTICATED', 'A valid partner API token is required');
  const { secondFactorMissing, ...principal } = found;
  // The partner requires two-factor sign-in: its staff's tokens work once they have set it up.
  if (secondFactorMissing) {
    throw new AppError(
      'SECOND_FACTOR_REQUIRED',
      'Your partner requires two-factor sign-in: sign in on the dashboard and set it up, then this token works again.',
    );
  }
  c.set('principal', principal);
  // A child of the process logger rather than of the request's: the same bindings, one
  // level fewer (pino serializes a child's bindings when it is made, on every request).
  c.set(
    'logger',
    c.var.deps.logger.child({ requestId: c.var.requestId, userId: principal.userId, partnerId: principal.partnerId }),
  );
  await next();
});
