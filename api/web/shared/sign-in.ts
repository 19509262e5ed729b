import type { Context } from 'hono';
import { checkCredentials } from '../../../services/accounts/client-accounts.ts';
import { hasSecondFactor } from '../../../services/accounts/second-factor.ts';
import { createSession, endSession } from '../../../services/accounts/sessions.ts';
import { startSignInChallenge } from '../../../services/accounts/sign-in-challenges.ts';
import type { AppEnv } from '../../env.ts';
import { clearSessionCookie, clientIp, sessionToken, setSessionCookie, setSignInChallengeCookie } from './context.ts';

/** The page of the second step, where a sign-in with two-factor on continues. */
export const SECOND_STEP_PATH = '/sign-in/two-factor';

/**
 * Checks a sign-in form under the rate limits (attempts per address, failures per
 * account) and, when right, starts a session — or, for a user with two-factor sign-in,
 * the second step (a short-lived challenge, not a session) that then goes on to `next`. One
 * generic answer for every mismatch. On success, `location` is where to send the browser.
 */
export async function attemptSignIn(
  c: Context<AppEnv>,
  form: Record<string, string>,
  next: string,
): Promise<{ ok: true; location: string } | { ok: false; email: string }> {
  const { rateLimits, db } = c.var.deps;
  const ip = clientIp(c);
  const email = (form.email ?? '').trim().slice(0, 320).toLowerCase();
  // Every attempt is counted before the password is checked — parallel guesses cannot
  // slip past the limit — and given back when it turns out right.
  await rateLimits.consume('signInPerIp', ip);
  await rateLimits.consume('signInFailuresPerAccountAndIp', `${email}|${ip}`);
  await rateLimits.consume('signInFailuresPerAccount', email);
  const password = form.password ?? '';
  const user = email && password && password.length <= 1000 ? await checkCredentials(db, email, password) : null;
  if (!user) {
    c.var.logger.info({ ip }, 'sign-in failed');
    return { ok: false, email };
  }
  await rateLimits.refund('signInFailuresPerAccountAndIp', `${email}|${ip}`);
  await rateLimits.refund('signInFailuresPerAccount', email);
  // A new session for every sign-in (never keep one a previous visitor may have planted).
  await endSession(db, sessionToken(c));
  if (await hasSecondFactor(db, user.userId)) {
    clearSessionCookie(c);
    setSignInChallengeCookie(c, await startSignInChallenge(db, user.userId));
    return { ok: true, location: `${SECOND_STEP_PATH}?next=${encodeURIComponent(next)}` };
  }
  setSessionCookie(c, await createSession(db, user.userId));
  return { ok: true, location: next };
}

/** Only same-site paths: `next` must not send the browser to another site. */
export function safeNext(next: string | undefined, fallback: string): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback;
}
