import { createMiddleware } from 'hono/factory';
import { findViewer } from '../../../services/accounts/sessions.ts';
import type { AppEnv } from '../../env.ts';
import { sessionToken } from './context.ts';

/** Sent by the dashboard's live refresh (pages/layout.tsx): the request is the page's, not the person's. */
export const LIVE_HEADER = 'x-mandate-live';

/** Where someone who must set up a second factor is sent, and the pages they may still use. */
export const ENROLMENT_PATH = '/account/two-factor';
const enrolmentPaths = [ENROLMENT_PATH, '/account/passkeys'];
const isEnrolmentPath = (path: string) => enrolmentPaths.some((p) => path === p || path.startsWith(`${p}/`));

/**
 * Loads who is signed in (from the session cookie) for the HTML pages — only while the
 * session is within its idle and absolute limits, and counting this request as activity.
 * Before anything else, whatever they asked for: someone signed in with a temporary
 * password goes to the password page; then someone whose organization requires
 * two-factor sign-in and who has no second factor goes to set one up (signing out stays
 * possible from both).
 */
export const loadViewer = createMiddleware<AppEnv>(async (c, next) => {
  // The dashboard's live refresh says so (LIVE_HEADER): an open tab is not someone there.
  const viewer = await findViewer(c.var.deps, sessionToken(c), { activity: c.req.header(LIVE_HEADER) !== '1' });
  c.set('viewer', viewer);
  const path = c.req.path;
  if (viewer && path !== '/sign-out') {
    if (viewer.mustChangePassword && path !== '/account/password') {
      return c.redirect(`/account/password?next=${encodeURIComponent(path)}`, 303);
    }
    if (!viewer.mustChangePassword && viewer.mustEnrolSecondFactor && !isEnrolmentPath(path)) {
      return c.redirect(`${ENROLMENT_PATH}?required=1&next=${encodeURIComponent(path)}`, 303);
    }
  }
  await next();
});
