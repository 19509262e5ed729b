import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { AppError, type ErrorCode } from '../../../core/errors.ts';
import type { AppEnv, PageHome } from '../../env.ts';
import { logRequestError, problemResponse, toAppError } from '../../problem.ts';
import { renderPage } from './context.ts';
import { MessagePage } from './layout.tsx';

const titles: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'Not found',
  OFFER_LINK_GONE: 'This link can no longer be used',
  INVITATION_GONE: 'This invitation can no longer be used',
  OFFER_REVOKED: 'This offer has been withdrawn',
  OFFER_EXPIRED: 'This offer has expired',
  NOT_AUTHORIZED: 'Not allowed',
  UNAUTHENTICATED: 'Please sign in',
  CSRF_FAILED: 'Please try again',
  RATE_LIMITED: 'Too many attempts',
  INVALID_TRANSITION: 'Already answered',
  CONFLICT: 'Something changed',
  DATABASE_TIMEOUT: 'Busy: please try again',
  INTERNAL: 'Something went wrong',
};

const homeLinks: Record<PageHome, { href: string; label: string }> = {
  dashboard: { href: '/dashboard', label: 'The dashboard' },
  org: { href: '/org/delegations', label: "Your organization's delegations" },
};

/**
 * Claims the paths it is mounted on for an HTML area: what goes wrong there — an address
 * that leads nowhere included — is answered with an error page leading back to `home`,
 * never with JSON or a stack trace. The app's not-found handler reads the claim: Hono
 * asks the top app, not the sub-app, when no route matches.
 */
export const pageArea = (home: PageHome) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set('pageHome', home);
    await next();
  });

export function renderErrorPage(c: Context<AppEnv>, error: AppError): Response {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  const message =
    error.code === 'INTERNAL'
      ? `Something went wrong on our side. If it happens again, quote this reference: ${c.var.requestId}.`
      : error.message;
  const area = homeLinks[c.var.pageHome ?? 'org'];
  // Never back to the page just refused (a staff member the whole dashboard refuses).
  const refusedHome = error.status === 403 && c.req.path.replace(/\/$/, '') === area.href;
  const home = refusedHome ? { href: '/account', label: 'Your account' } : area;
  return renderPage(
    c,
    <MessagePage title={titles[error.code] ?? 'Cannot do that'} message={message} kind="error">
      <p>
        <a href={home.href}>{home.label}</a>
      </p>
    </MessagePage>,
    error.status,
  );
}

/** The 404 page of an address no page answers. */
export const notFoundPage: NotFoundHandler<AppEnv> = (c) =>
  renderErrorPage(c, new AppError('NOT_FOUND', 'There is nothing at this address.'));

/**
 * Any error thrown by a page's handler or middleware, as an error page — within an area
 * (`pageArea` set it up, with its headers). Elsewhere (`/`, `/docs`), problem+json.
 */
export const errorPage: ErrorHandler<AppEnv> = (error, c) => {
  const appError = toAppError(error);
  logRequestError(c.var.logger, appError, error, routePath(c, -1));
  return c.var.pageHome ? renderErrorPage(c, appError) : problemResponse(c, appError);
};
