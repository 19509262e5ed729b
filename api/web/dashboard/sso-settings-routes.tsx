import { isAppError } from '../../../core/errors.ts';
import {
  readSsoSettings,
  saveSsoSettings,
  setSsoEnabled,
  verifySsoDomain,
} from '../../../services/accounts/single-sign-on-settings.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { stepUpRedirect } from '../shared/step-up.ts';
import { SsoSettingsPage } from './pages/sso-settings.tsx';
import { notice } from './query.ts';

/** The partner's single sign-on (owners only: `requireOwnerSession` on the area). */
export function registerSsoSettingsPages(app: WebApp): void {
  app.get('/dashboard/single-sign-on', async (c) =>
    renderPage(
      c,
      <SsoSettingsPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        settings={await readSsoSettings(c.var.deps, c.var.principal)}
        notice={notice(c)}
      />,
    ),
  );

  app.post('/dashboard/single-sign-on', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const input = {
      issuer: form.issuer ?? '',
      clientId: form.clientId ?? '',
      clientSecret: form.clientSecret ?? '',
      emailDomain: form.emailDomain ?? '',
    };
    try {
      await saveSsoSettings(c.var.deps, c.var.principal, input, c.var.requestId);
    } catch (error) {
      if (!isAppError(error, 'VALIDATION_FAILED') && !isAppError(error, 'CONFLICT')) throw error;
      const { clientSecret: _secret, ...typed } = input;
      return renderPage(
        c,
        <SsoSettingsPage
          principal={c.var.principal}
          csrf={csrfToken(c)}
          settings={await readSsoSettings(c.var.deps, c.var.principal)}
          typed={typed}
          error={error.message}
        />,
        error.status,
      );
    }
    return c.redirect('/dashboard/single-sign-on?notice=sso-saved', 303);
  });

  app.post('/dashboard/single-sign-on/verify', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    try {
      await verifySsoDomain(c.var.deps, c.var.principal, c.var.requestId);
    } catch (error) {
      if (!isAppError(error, 'VALIDATION_FAILED') && !isAppError(error, 'CONFLICT')) throw error;
      return renderPage(
        c,
        <SsoSettingsPage
          principal={c.var.principal}
          csrf={csrfToken(c)}
          settings={await readSsoSettings(c.var.deps, c.var.principal)}
          error={error.message}
        />,
        error.status,
      );
    }
    return c.redirect('/dashboard/single-sign-on?notice=sso-domain-proven', 303);
  });

  app.post('/dashboard/single-sign-on/enabled', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const enabled = form.enabled === 'on';
    // Turning it on lets people in another way: a recent second factor first. Off, never.
    const stepUp = enabled ? stepUpRedirect(c, '/dashboard/single-sign-on') : null;
    if (stepUp) return stepUp;
    await setSsoEnabled(c.var.deps, c.var.principal, enabled, c.var.requestId);
    return c.redirect(`/dashboard/single-sign-on?notice=${enabled ? 'sso-on' : 'sso-off'}`, 303);
  });
}
