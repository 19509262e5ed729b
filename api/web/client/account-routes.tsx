import { z } from 'zod';
import { AppError } from '../../../core/errors.ts';
import { sha256Hex } from '../../../lib/secrets.ts';
import { changeOwnPassword, checkCredentials } from '../../../services/accounts/client-accounts.ts';
import type { WebApp } from '../../env.ts';
import { clientIp, csrfToken, formFields, renderPage, sessionToken, verifyCsrf } from '../shared/context.ts';
import { MessagePage } from '../shared/layout.tsx';
import { safeNext } from '../shared/sign-in.ts';
import { registerAccountSessionPages } from './account-sessions-routes.tsx';
import { PasswordPage } from './pages/password-page.tsx';
import { registerPasskeyPages } from './passkey-routes.tsx';
import { registerTwoFactorPages } from './two-factor-routes.tsx';

const newPassword = z
  .object({
    password: z.string().min(12, 'The password must have at least 12 characters').max(200, 'The password is too long'),
    repeat: z.string(),
  })
  .refine((f) => f.password === f.repeat, 'The two passwords are not the same');

export function registerAccountPages(app: WebApp): void {
  // Under /account too: the two-factor, sessions and passkeys pages have files of their own.
  registerTwoFactorPages(app);
  registerAccountSessionPages(app);
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
      const ip = clientIp(c);
      await c.var.deps.rateLimits.consume('signInFailuresPerAccountAndIp', `${viewer.email.toLowerCase()}|${ip}`);
      const ok = await checkCredentials(c.var.deps.db, viewer.email, form.current ?? '');
      if (!ok) {
        return renderPage(
          c,
          <PasswordPage csrf={csrfToken(c)} next={next} forced={false} error="The current password is not right." />,
          401,
        );
      }
      await c.var.deps.rateLimits.refund('signInFailuresPerAccountAndIp', `${viewer.email.toLowerCase()}|${ip}`);
    }
    const parsed = newPassword.safeParse(form);
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
        <p>
          <a href={viewer.orgKind === 'partner' ? '/dashboard' : '/org/delegations'}>Back</a>
        </p>
      </MessagePage>,
    );
  });
}
