import type { Context } from 'hono';
import type { AppError, ErrorCode } from '../../core/errors.ts';
import type { AppEnv } from '../env.ts';
import { renderPage } from './context.ts';
import { MessagePage } from './pages/layout.tsx';

const titles: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'Not found',
  OFFER_LINK_GONE: 'This link can no longer be used',
  OFFER_REVOKED: 'This offer has been withdrawn',
  OFFER_EXPIRED: 'This offer has expired',
  NOT_AUTHORIZED: 'Not allowed',
  UNAUTHENTICATED: 'Please sign in',
  CSRF_FAILED: 'Please try again',
  RATE_LIMITED: 'Too many attempts',
  INVALID_TRANSITION: 'Already answered',
  CONFLICT: 'Something changed',
  INTERNAL: 'Something went wrong',
};

/** Paths served as HTML pages: their errors are pages too, never JSON or stack traces. */
export function isPagePath(path: string): boolean {
  return /^\/(offers|org|sign-in|sign-out|account|signup|dashboard|admin|dev)(\/|$)/.test(path);
}

export function renderErrorPage(c: Context<AppEnv>, error: AppError): Response {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  const message =
    error.code === 'INTERNAL'
      ? `Something went wrong on our side. If it happens again, quote this reference: ${c.var.requestId}.`
      : error.message;
  return renderPage(
    c,
    <MessagePage title={titles[error.code] ?? 'Cannot do that'} message={message} kind="error">
      <p>
        {/^\/(dashboard|admin)(\/|$)/.test(c.req.path) ? (
          <a href="/dashboard">The dashboard</a>
        ) : (
          <a href="/org/delegations">Your organization's delegations</a>
        )}
      </p>
    </MessagePage>,
    error.status,
  );
}
