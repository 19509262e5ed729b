import type { Context } from 'hono';
import { createSession, endSession } from '../../../services/accounts/sessions.ts';
import { checkSignIn } from '../../../services/accounts/sign-in-attempts.ts';
import { startSignInChallenge } from '../../../services/accounts/sign-in-challenges.ts';
import type { AppEnv } from '../../env.ts';
import {
  clearSessionCookie,
  clientIp,
  sessionClient,
  sessionToken,
  setSessionCookie,
  setSignInChallengeCookie,
} from './context.ts';

/** The page of the second step, where a sign-in with two-factor on continues. */
export const SECOND_STEP_PATH = '/sign-in/two-factor';

/**
 * Checks a sign-in form (services/accounts/sign-in-attempts.ts: the limits, the audit) and,
 * when right, starts a session — or, for a user with two-factor sign-in, the second step
 * (a short-lived challenge, not a session) that then goes on to `next`. One generic answer
 * for every mismatch; RATE_LIMITED is thrown for an attempt that must wait. On success,
 * `location` is where to send the browser.
 */
export async function attemptSignIn(
  c: Context<AppEnv>,
  form: Record<string, string>,
  next: string,
): Promise<{ ok: true; location: string } | { ok: false; email: string }> {
  const { db } = c.var.deps;
  const clientAddress = clientIp(c);
  const email = (form.email ?? '').trim().slice(0, 320).toLowerCase();
  const checked = await checkSignIn(c.var.deps, {
    email,
    password: form.password ?? '',
    clientAddress,
    requestId: c.var.requestId,
  });
  if (!checked.ok) {
    c.var.logger.info({ ip: clientAddress }, 'sign-in failed');
    return { ok: false, email };
  }
  // A new session for every sign-in (never keep one a previous visitor may have planted).
  await endSession(db, sessionToken(c));
  if (checked.secondFactor) {
    clearSessionCookie(c);
    setSignInChallengeCookie(c, await startSignInChallenge(db, checked.userId));
    return { ok: true, location: `${SECOND_STEP_PATH}?next=${encodeURIComponent(next)}` };
  }
  setSessionCookie(c, await createSession(db, checked.userId, sessionClient(c)));
  return { ok: true, location: next };
}

/** Only same-site paths: `next` must not send the browser to another site. */
export function safeNext(next: string | undefined, fallback: string): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback;
}
