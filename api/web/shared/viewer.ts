import { createMiddleware } from 'hono/factory';
import { findViewer } from '../../../services/accounts/sessions.ts';
import type { AppEnv } from '../../env.ts';
import { sessionToken } from './context.ts';

/**
 * Loads who is signed in (from the session cookie) for the HTML pages — only while the
 * session is within its idle and absolute limits, and counting this request as activity.
 * Someone signed in with a temporary password goes to the password page first, whatever
 * they asked for.
 */
export const loadViewer = createMiddleware<AppEnv>(async (c, next) => {
  const viewer = await findViewer(c.var.deps, sessionToken(c));
  c.set('viewer', viewer);
  const exempt = c.req.path === '/account/password' || c.req.path === '/sign-out';
  if (viewer?.mustChangePassword && !exempt) {
    return c.redirect(`/account/password?next=${encodeURIComponent(c.req.path)}`, 303);
  }
  await next();
});
