import { createSession } from '../../../services/accounts/sessions.ts';
import { confirmSignup, findSignup } from '../../../services/accounts/signups.ts';
import type { App } from '../../env.ts';
import { csrfToken, formFields, renderPage, setSessionCookie, verifyCsrf } from '../context.ts';
import { Layout } from '../pages/layout.tsx';
import { safeNext } from '../sign-in.ts';

export function registerSignupPages(app: App): void {
  // A page with a button rather than an action on GET: mail scanners that open links
  // must not use them up.
  app.get('/signup/:token', async (c) => {
    const signup = await findSignup(c.var.deps, c.req.param('token'));
    return renderPage(
      c,
      <Layout title="Confirm your organization">
        <h1>Create {signup.orgName}</h1>
        <p>
          Your address {signup.email} is confirmed by this link. Create the organization to continue with the offer.
        </p>
        <form method="post" action={`/signup/${c.req.param('token')}`}>
          <input type="hidden" name="csrf" value={csrfToken(c)} />
          <button type="submit">Create the organization</button>
        </form>
      </Layout>,
    );
  });

  app.post('/signup/:token', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const { userId, returnTo } = await confirmSignup(c.var.deps, c.req.param('token'));
    setSessionCookie(c, await createSession(c.var.deps.db, userId));
    return c.redirect(safeNext(returnTo, '/org/delegations'), 303);
  });
}
