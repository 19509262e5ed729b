import { SSO_CALLBACK_PATH, ssoRefusalMessage, ssoRefusalTable } from '../../../core/single-sign-on.ts';
import { finishSsoSignIn, startSsoSignIn } from '../../../services/accounts/single-sign-on.ts';
import type { WebApp } from '../../env.ts';
import {
  clearSsoCookie,
  clientIp,
  csrfToken,
  formFields,
  renderPage,
  setSsoCookie,
  ssoToken,
  verifyCsrf,
} from '../shared/context.ts';
import { continueSignIn, safeNext } from '../shared/sign-in.ts';
import { SignInPage } from './pages/sign-in-page.tsx';
import { SsoRedirectPage } from './pages/sso-redirect-page.tsx';

/**
 * Single sign-on for partner staff (services/accounts/single-sign-on.ts): the sign-in
 * page's second form starts it, the identity provider sends the browser back to the
 * callback, and a right answer goes on through `continueSignIn` like every sign-in.
 */
export function registerSsoPages(app: WebApp): void {
  app.post('/sign-in/sso', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const next = safeNext(form.next, '/dashboard');
    const email = (form.email ?? '').trim().slice(0, 320).toLowerCase();
    const started = await startSsoSignIn(c.var.deps, { email, next, clientAddress: clientIp(c) });
    if (!started.ok) {
      return renderPage(
        c,
        <SignInPage
          csrf={csrfToken(c)}
          next={next}
          ssoEmail={email}
          ssoError="There is no single sign-on for this address. Sign in with your password."
        />,
        400,
      );
    }
    setSsoCookie(c, started.token);
    return renderPage(c, <SsoRedirectPage location={started.location} />);
  });

  app.get(SSO_CALLBACK_PATH, async (c) => {
    const { search } = new URL(c.req.url);
    const result = await finishSsoSignIn(c.var.deps, {
      token: ssoToken(c),
      // The address the provider was told to send the browser to, whatever the proxy in front.
      callbackUrl: new URL(`${c.var.deps.config.publicUrl}${SSO_CALLBACK_PATH}${search}`),
      requestId: c.var.requestId,
    });
    clearSsoCookie(c);
    if (!result.ok) {
      return renderPage(
        c,
        <SignInPage
          csrf={csrfToken(c)}
          next="/dashboard"
          ssoError={ssoRefusalMessage(result.reason, result.partnerName)}
        />,
        ssoRefusalTable[result.reason].status,
      );
    }
    const location = await continueSignIn(c, {
      userId: result.userId,
      method: 'sso',
      hasSecondFactor: result.hasSecondFactor,
      next: result.next,
    });
    return c.redirect(location, 303);
  });
}
