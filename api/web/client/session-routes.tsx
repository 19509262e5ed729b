import { endSession } from '../../../services/accounts/sessions.ts';
import type { WebApp } from '../../env.ts';
import { clearSessionCookie, csrfToken, formFields, renderPage, sessionToken, verifyCsrf } from '../shared/context.ts';
import { attemptSignIn, safeNext } from '../shared/sign-in.ts';
import { SignInPage } from './pages/sign-in-page.tsx';

export function registerSessionPages(app: WebApp): void {
  app.get('/sign-in', (c) =>
    renderPage(c, <SignInPage csrf={csrfToken(c)} next={safeNext(c.req.query('next'), '/')} />),
  );

  app.post('/sign-in', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const next = safeNext(form.next, '/');
    const result = await attemptSignIn(c, form);
    if (!result.ok) {
      return renderPage(
        c,
        <SignInPage csrf={csrfToken(c)} next={next} email={result.email} error="The email or password is not right." />,
        401,
      );
    }
    return c.redirect(next, 303);
  });

  app.post('/sign-out', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await endSession(c.var.deps.db, sessionToken(c));
    clearSessionCookie(c);
    return c.redirect(safeNext(form.next, '/sign-in'), 303);
  });
}
