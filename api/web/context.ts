import { timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { AppError } from '../../core/errors.ts';
import { randomToken } from '../../lib/secrets.ts';
import { SESSION_TTL_HOURS } from '../../services/sessions.ts';
import type { AppEnv } from '../env.ts';

export const SESSION_COOKIE = 'mandate_session';
export const CSRF_COOKIE = 'mandate_csrf';

function cookieOptions(c: Context<AppEnv>, maxAgeSeconds: number) {
  return {
    path: '/',
    httpOnly: true,
    // Lax: the session survives the click from the offer email (a top-level GET) but is
    // not sent with cross-site form posts.
    sameSite: 'Lax' as const,
    secure: c.var.deps.config.publicUrl.startsWith('https:'),
    maxAge: maxAgeSeconds,
  };
}

export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, SESSION_COOKIE, token, cookieOptions(c, SESSION_TTL_HOURS * 3600));
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

export function sessionToken(c: Context<AppEnv>): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/**
 * The CSRF token for this browser: a random value in an HttpOnly cookie, repeated in a
 * hidden field of every form (double submit). Another site can make a browser post a
 * form here, but can neither read nor set this cookie, so it cannot supply the field.
 */
export function csrfToken(c: Context<AppEnv>): string {
  const existing = getCookie(c, CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomToken(32);
  setCookie(c, CSRF_COOKIE, token, cookieOptions(c, 7 * 24 * 3600));
  return token;
}

/** Throws CSRF_FAILED unless the form's token matches the cookie's. */
export function verifyCsrf(c: Context<AppEnv>, submitted: unknown): void {
  const cookie = getCookie(c, CSRF_COOKIE) ?? '';
  const field = typeof submitted === 'string' ? submitted : '';
  const ok =
    cookie.length === 43 && field.length === cookie.length && timingSafeEqual(Buffer.from(cookie), Buffer.from(field));
  if (!ok)
    throw new AppError(
      'CSRF_FAILED',
      'This form has expired or was not sent from this site. Reload the page and try again.',
    );
}

/** The client's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(c: Context<AppEnv>): string {
  if (c.var.deps.config.trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Form fields as strings (files and repeated fields are ignored). */
export async function formFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') fields[key] = value;
  return fields;
}

/** Sends a page with its doctype and the given status. */
export function renderPage(c: Context<AppEnv>, page: JSX.Element, status = 200): Response {
  c.header('Cache-Control', 'no-store');
  return c.html(`<!doctype html>${String(page)}`, status as 200);
}
