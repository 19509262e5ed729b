import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../env.ts';

/** The page where a signed-in person confirms it is them with a second factor. */
export const STEP_UP_PATH = '/account/confirm';

/**
 * Sensitive changes (adding staff, changing their access, creating API tokens, sign-in
 * settings) need a second factor passed within STEP_UP_MINUTES (core/second-factor.ts) in
 * this session: without one, the browser goes to the confirmation page, which then sends
 * it back to `back` — the page the change is made from — to make it again. Runs after
 * `loadViewer` (and the area's sign-in gate). A request not from a session (an API token)
 * never comes here: tokens are made only behind this gate.
 */
export function requireStepUp(back: string) {
  return createMiddleware<AppEnv>(async (c, next) => stepUpRedirect(c, back) ?? next());
}

/**
 * The same check inside a handler, for a form whose one direction needs it (turning a
 * safeguard off) and the other not (turning it on — a partner may always reduce what it
 * allows): the redirect to make, or null when the session may go on.
 */
export function stepUpRedirect(c: Context<AppEnv>, back: string): Response | null {
  if (c.var.viewer?.secondFactorFresh) return null;
  return c.redirect(`${STEP_UP_PATH}?next=${encodeURIComponent(back)}`, 303);
}
