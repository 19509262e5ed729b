import { timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { rateLimitAddress } from '../../../core/client-address.ts';
import { AppError } from '../../../core/errors.ts';
import { SIGN_IN_CHALLENGE_SECONDS } from '../../../core/second-factor.ts';
import { SSO_SIGN_IN_SECONDS } from '../../../core/single-sign-on.ts';
import { randomToken } from '../../../lib/secrets.ts';
import { type SessionClient, type SessionOwner, sessionIdOf } from '../../../services/accounts/sessions.ts';
import type { AppEnv } from '../../env.ts';

const SESSION_COOKIE = 'mandate_session';
const CSRF_COOKIE = 'mandate_csrf';
/** A sign-in waiting for its second factor (services/accounts/sign-in-challenges.ts): not a session. */
const SIGN_IN_COOKIE = 'mandate_sign_in';
/**
 * A single sign-on under way (services/accounts/single-sign-on.ts): Lax, so it comes back
 * with the identity provider's top-level redirect to the callback.
 */
const SSO_COOKIE = 'mandate_sso';

/**
 * Over https the cookies carry the `__Host-` prefix: the browser then refuses them
 * unless Secure, without Domain, and on `/` — a sibling subdomain cannot plant them.
 */
function cookieName(c: Context<AppEnv>, name: string): string {
  return c.var.deps.config.publicUrl.startsWith('https:') ? `__Host-${name}` : name;
}

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

/** The browser may keep it as long as the session may last; the database decides before that (idle limit). */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, cookieName(c, SESSION_COOKIE), token, cookieOptions(c, c.var.deps.config.sessionMaxHours * 3600));
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, cookieName(c, SESSION_COOKIE), {
    path: '/',
    secure: c.var.deps.config.publicUrl.startsWith('https:'),
  });
}

export function sessionToken(c: Context<AppEnv>): string | undefined {
  return getCookie(c, cookieName(c, SESSION_COOKIE));
}

/** The stored id of this request's session (the SHA-256 of its cookie), or null without one. */
export function currentSessionId(c: Context<AppEnv>): string | null {
  return sessionIdOf(sessionToken(c));
}

/**
 * The signed-in user and the session of this request, as the services that act on one's
 * own session take them; null when nobody is signed in (needs `loadViewer` first).
 */
export function sessionOwner(c: Context<AppEnv>): SessionOwner | null {
  const viewer = c.var.viewer;
  const sessionId = currentSessionId(c);
  return viewer && sessionId ? { userId: viewer.userId, sessionId } : null;
}

/** Where this request comes from, as a session records it (its address and browser). */
export function sessionClient(c: Context<AppEnv>): SessionClient {
  return { address: clientIp(c), userAgent: c.req.header('user-agent') };
}

export function setSignInChallengeCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, cookieName(c, SIGN_IN_COOKIE), token, cookieOptions(c, SIGN_IN_CHALLENGE_SECONDS));
}

export function clearSignInChallengeCookie(c: Context<AppEnv>): void {
  deleteCookie(c, cookieName(c, SIGN_IN_COOKIE), {
    path: '/',
    secure: c.var.deps.config.publicUrl.startsWith('https:'),
  });
}

export function signInChallengeToken(c: Context<AppEnv>): string | undefined {
  return getCookie(c, cookieName(c, SIGN_IN_COOKIE));
}

export function setSsoCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, cookieName(c, SSO_COOKIE), token, cookieOptions(c, SSO_SIGN_IN_SECONDS));
}

export function clearSsoCookie(c: Context<AppEnv>): void {
  deleteCookie(c, cookieName(c, SSO_COOKIE), { path: '/', secure: c.var.deps.config.publicUrl.startsWith('https:') });
}

export function ssoToken(c: Context<AppEnv>): string | undefined {
  return getCookie(c, cookieName(c, SSO_COOKIE));
}

/**
 * The CSRF token for this browser: a random value in an HttpOnly cookie, repeated in a
 * hidden field of every form (double submit). Another site can make a browser post a
 * form here, but can neither read nor set this cookie, so it cannot supply the field.
 */
export function csrfToken(c: Context<AppEnv>): string {
  const existing = getCookie(c, cookieName(c, CSRF_COOKIE));
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomToken(32);
  setCookie(c, cookieName(c, CSRF_COOKIE), token, cookieOptions(c, 7 * 24 * 3600));
  return token;
}

/** Throws CSRF_FAILED unless the form's token matches the cookie's. */
export function verifyCsrf(c: Context<AppEnv>, submitted: unknown): void {
  const cookie = getCookie(c, cookieName(c, CSRF_COOKIE)) ?? '';
  const field = typeof submitted === 'string' ? submitted : '';
  const ok =
    cookie.length === 43 && field.length === cookie.length && timingSafeEqual(Buffer.from(cookie), Buffer.from(field));
  if (!ok)
    throw new AppError(
      'CSRF_FAILED',
      'This form has expired or was not sent from this site. Reload the page and try again.',
    );
}

/**
 * The client's address for rate limits: the socket's, or — behind a trusted proxy
 * (TRUST_PROXY) — the last X-Forwarded-For entry, the one our proxy appended (entries to
 * its left are whatever the client sent), keyed by core/client-address.ts (IPv6 per /64).
 */
export function clientIp(c: Context<AppEnv>): string {
  let address: string | undefined;
  if (c.var.deps.config.trustProxy) address = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
  if (!address) {
    try {
      address = getConnInfo(c).remote.address;
    } catch {
      address = undefined;
    }
  }
  return rateLimitAddress(address);
}

/** Largest form a page accepts; the forms here are a few short fields. */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * Form fields as strings (a repeated field keeps its last value). Only URL-encoded forms
 * are accepted — the pages send nothing else — and a form posted from another site
 * (its Origin says so) is refused before its body is read.
 */
export async function formFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  assertSameOrigin(c);
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the form as the page does (application/x-www-form-urlencoded).');
  }
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') fields[key] = value;
  return fields;
}

/** Refuses a form posted from another site (its Origin says so) before its body is read. */
function assertSameOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header('origin');
  if (origin && origin !== 'null' && origin !== new URL(c.var.deps.config.publicUrl).origin) {
    throw new AppError('CSRF_FAILED', 'This form was not sent from this site.');
  }
}

/**
 * A form with a file (multipart/form-data): its text fields as {@link formFields} reads
 * them, and its files. Only the pages that take a file accept it; the body's size is the
 * route's own limit (the dashboard's upload limit, not the forms' 16 KiB).
 */
export async function multipartFields(
  c: Context<AppEnv>,
): Promise<{ fields: Record<string, string>; files: Record<string, File> }> {
  assertSameOrigin(c);
  if (!/^multipart\/form-data\s*;/i.test(c.req.header('content-type') ?? '')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the form as the page does (multipart/form-data).');
  }
  let body: Record<string, string | File | (string | File)[]>;
  try {
    body = await c.req.parseBody();
  } catch {
    throw new AppError('MALFORMED_BODY', 'The form could not be read: send it again from the page.');
  }
  const fields: Record<string, string> = {};
  const files: Record<string, File> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') fields[key] = value;
    else if (value instanceof File) files[key] = value;
  }
  return { fields, files };
}

/** Sends a page with its doctype and the given status. */
export function renderPage(c: Context<AppEnv>, page: JSX.Element, status = 200): Response {
  c.header('Cache-Control', 'no-store');
  return c.html(`<!doctype html>${String(page)}`, status as 200);
}
