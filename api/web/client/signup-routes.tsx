import { createSession } from '../../../services/accounts/sessions.ts';
import { confirmSignup, findSignup } from '../../../services/accounts/signups.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, sessionClient, setSessionCookie, verifyCsrf } from '../shared/context.ts';
import { safeNext } from '../shared/sign-in.ts';
import { SignupPage } from './pages/signup-page.tsx';

export function registerSignupPages(app: WebApp): void {
  // A page with a button rather than an action on GET: mail scanners that open links
  // must not use them up.
  app.get('/signup/:token', async (c) => {
    const signup = await findSignup(c.var.deps, c.req.param('token'));
    return renderPage(
      c,
      <SignupPage
        orgName={signup.orgName}
        email={signup.email}
        action={`/signup/${c.req.param('token')}`}
        csrf={csrfToken(c)}
      />,
    );
  });

  app.post('/signup/:token', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const { userId, returnTo } = await confirmSignup(c.var.deps, c.req.param('token'));
    setSessionCookie(c, await createSession(c.var.deps.db, userId, sessionClient(c), { method: 'new_account' }));
    return c.redirect(safeNext(returnTo, '/org/delegations'), 303);
  });
}
