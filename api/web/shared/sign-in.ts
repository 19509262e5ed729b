import type { Context } from 'hono';
import { type SignInMethod, signInMethodTable } from '../../../core/sign-in-methods.ts';
import { checkCredentials } from '../../../services/accounts/client-accounts.ts';
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
  const location = await continueSignIn(c, {
    userId: checked.userId,
    method: 'password',
    hasSecondFactor: checked.secondFactor,
    next,
  });
  return { ok: true, location };
}

/**
 * After a first step passed (a password, single sign-on, a passkey): starts the session —
 * or, when the method was not a strong one and the user has a second factor, the second
 * step, which then starts it. Returns where to send the browser. Every way of signing in
 * ends here, so none of them skips the second factor.
 */
export async function continueSignIn(
  c: Context<AppEnv>,
  input: { userId: string; method: SignInMethod; hasSecondFactor: boolean; next: string },
): Promise<string> {
  const { db } = c.var.deps;
  // A new session for every sign-in (never keep one a previous visitor may have planted).
  await endSession(db, sessionToken(c));
  if (input.hasSecondFactor && !signInMethodTable[input.method].strong) {
    clearSessionCookie(c);
    setSignInChallengeCookie(c, await startSignInChallenge(db, input.userId, input.method));
    return `${SECOND_STEP_PATH}?next=${encodeURIComponent(input.next)}`;
  }
  setSessionCookie(c, await createSession(db, input.userId, sessionClient(c), { method: input.method }));
  return input.next;
}

/** Only same-site paths: `next` must not send the browser to another site. */
export function safeNext(next: string | undefined, fallback: string): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback;
}

/**
 * Checks the signed-in person's current password, typed again for a change a session
 * alone must not make (a new password, a new second factor): limited per account and
 * address like sign-in, the attempt given back when right.
 */
export async function recheckPassword(c: Context<AppEnv>, email: string, password: string): Promise<boolean> {
  const key = `${email.toLowerCase()}|${clientIp(c)}`;
  await c.var.deps.rateLimits.consume('signInFailuresPerAccountAndIp', key);
  const ok = await checkCredentials(c.var.deps.db, email, password);
  if (ok) await c.var.deps.rateLimits.refund('signInFailuresPerAccountAndIp', key);
  return ok !== null;
}
