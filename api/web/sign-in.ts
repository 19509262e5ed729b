import type { Context } from 'hono';
import { checkCredentials } from '../../services/client-accounts.ts';
import { createSession } from '../../services/sessions.ts';
import type { AppEnv } from '../env.ts';
import { clientIp, setSessionCookie } from './context.ts';

/**
 * Checks a sign-in form under the rate limits (attempts per address, failures per
 * account) and, when right, starts a session. One generic answer for every mismatch.
 */
export async function attemptSignIn(
  c: Context<AppEnv>,
  form: Record<string, string>,
): Promise<{ ok: true } | { ok: false; email: string }> {
  const { rateLimits, db } = c.var.deps;
  const ip = clientIp(c);
  await rateLimits.consume('signInPerIp', ip);
  const email = (form.email ?? '').trim().slice(0, 320);
  await rateLimits.check('signInFailuresPerAccount', email);
  const password = form.password ?? '';
  const user = email && password && password.length <= 1000 ? await checkCredentials(db, email, password) : null;
  if (!user) {
    await rateLimits.consume('signInFailuresPerAccount', email);
    c.var.logger.info({ ip }, 'sign-in failed');
    return { ok: false, email };
  }
  setSessionCookie(c, await createSession(db, user.userId));
  return { ok: true };
}

/** Only same-site paths: `next` must not send the browser to another site. */
export function safeNext(next: string | undefined, fallback: string): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback;
}
