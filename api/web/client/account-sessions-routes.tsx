import type { Context } from 'hono';
import { AppError } from '../../../core/errors.ts';
import {
  endOtherSessions,
  endOwnSession,
  listOwnSessions,
  type SessionOwner,
} from '../../../services/accounts/sessions.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { clearSessionCookie, csrfToken, formFields, renderPage, sessionOwner, verifyCsrf } from '../shared/context.ts';
import { type SessionNotice, SessionsPage, sessionNotices } from './pages/sessions-page.tsx';

function signedIn(c: Context<AppEnv>): SessionOwner {
  const who = sessionOwner(c);
  if (!who) throw new AppError('UNAUTHENTICATED', 'Sign in first.');
  return who;
}

/**
 * /account/sessions: where one is signed in, "sign out everywhere else", and signing out
 * one other session. Partner staff and client users alike. Only one's own sessions are
 * listed or ended (the service's queries name the user).
 */
export function registerAccountSessionPages(app: WebApp): void {
  app.get('/account/sessions', async (c) => {
    const who = sessionOwner(c);
    if (!who) return c.redirect('/sign-in?next=/account/sessions', 303);
    const { config } = c.var.deps;
    const ended = c.req.query('ended');
    return renderPage(
      c,
      <SessionsPage
        csrf={csrfToken(c)}
        sessions={await listOwnSessions(c.var.deps, who)}
        idleMinutes={config.sessionIdleMinutes}
        maxHours={config.sessionMaxHours}
        home={c.var.viewer?.orgKind === 'partner' ? '/dashboard' : '/org/delegations'}
        notice={ended && Object.hasOwn(sessionNotices, ended) ? sessionNotices[ended as SessionNotice] : undefined}
      />,
    );
  });

  app.post('/account/sessions/end-others', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await endOtherSessions(c.var.deps, signedIn(c), c.var.requestId);
    return c.redirect('/account/sessions?ended=others', 303);
  });

  app.post('/account/sessions/end', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = signedIn(c);
    const session = (form.session ?? '').slice(0, 100);
    const { ended } = await endOwnSession(c.var.deps, who, session, c.var.requestId);
    if (ended && session === who.sessionId) {
      // The page offers no button for this one, but a hand-made form may: then this browser is out.
      clearSessionCookie(c);
      return c.redirect('/sign-in', 303);
    }
    return c.redirect(`/account/sessions?ended=${ended ? 'one' : 'none'}`, 303);
  });
}
