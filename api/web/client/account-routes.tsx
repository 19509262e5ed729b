import { AppError } from '../../../core/errors.ts';
import { sha256Hex } from '../../../lib/secrets.ts';
import { changeOwnPassword } from '../../../services/accounts/client-accounts.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, sessionToken, verifyCsrf } from '../shared/context.ts';
import { MessagePage } from '../shared/layout.tsx';
import { newPasswordForm } from '../shared/password-rules.ts';
import { recheckPassword, safeNext } from '../shared/sign-in.ts';
import { registerAccountSessionPages } from './account-sessions-routes.tsx';
import { PasswordPage } from './pages/password-page.tsx';
import { registerPasskeyPages } from './passkey-routes.tsx';
import { registerStepUpPages } from './step-up-routes.tsx';
import { registerTwoFactorPages } from './two-factor-routes.tsx';

export function registerAccountPages(app: WebApp): void {
  // Under /account too: the two-factor, sessions and passkeys pages have files of their own.
  registerTwoFactorPages(app);
  registerAccountSessionPages(app);
  registerStepUpPages(app);
  registerPasskeyPages(app);

  app.get('/account/password', (c) => {
    const viewer = c.var.viewer;
    if (!viewer) return c.redirect('/sign-in?next=/account/password', 303);
    return renderPage(
      c,
      <PasswordPage
        csrf={csrfToken(c)}
        next={safeNext(c.req.query('next'), '/account')}
        forced={viewer.mustChangePassword}
      />,
    );
  });

  app.post('/account/password', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const viewer = c.var.viewer;
    if (!viewer) throw new AppError('UNAUTHENTICATED', 'Sign in first.');
    const next = safeNext(form.next, '/account');
    if (!viewer.mustChangePassword) {
      // Outside the forced change, a session alone is not enough to replace the password.
      if (!(await recheckPassword(c, viewer.email, form.current ?? ''))) {
        return renderPage(
          c,
          <PasswordPage csrf={csrfToken(c)} next={next} forced={false} error="The current password is not right." />,
          401,
        );
      }
    }
    const parsed = newPasswordForm.safeParse(form);
    if (!parsed.success) {
      return renderPage(
        c,
        <PasswordPage
          csrf={csrfToken(c)}
          next={next}
          forced={viewer.mustChangePassword}
          error={parsed.error.issues[0]?.message}
        />,
        422,
      );
    }
    await changeOwnPassword(c.var.deps.db, viewer.userId, parsed.data.password, sha256Hex(sessionToken(c) ?? ''));
    return c.redirect(next, 303);
  });

  app.get('/account', (c) => {
    const viewer = c.var.viewer;
    if (!viewer) return c.redirect('/sign-in?next=/account', 303);
    return renderPage(
      c,
      <MessagePage
        title="Your account"
        kind="ok"
        message={`Signed in as ${viewer.email} (${viewer.orgName}). Your password is your own.`}
      >
        <p>
          <a href="/account/password">Change your password</a>
        </p>
        <p>
          <a href="/account/two-factor">Two-factor sign-in</a>
        </p>
        <p>
          <a href="/account/passkeys">Passkeys</a> (sign in with your device instead of a password)
        </p>
        <p>
          <a href="/account/sessions">Where you are signed in</a> (sign out other browsers)
        </p>
        {viewer.orgKind === 'partner' ? (
          <p>
            <a href="/dashboard/tokens">Your API tokens</a>
          </p>
        ) : null}
        <p>
          <a href={viewer.orgKind === 'partner' ? '/dashboard' : '/org/delegations'}>Back</a>
        </p>
      </MessagePage>,
    );
  });
}
