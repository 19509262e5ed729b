import type { Context } from 'hono';
import { AppError } from '../../../core/errors.ts';
import { refusalMessages } from '../../../core/second-factor.ts';
import { sha256Hex } from '../../../lib/secrets.ts';
import {
  confirmTotpEnrolment,
  disableTwoFactor,
  type FactorOwner,
  startTotpEnrolment,
  twoFactorStatus,
} from '../../../services/accounts/two-factor.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { clientIp, csrfToken, formFields, renderPage, sessionToken, verifyCsrf } from '../shared/context.ts';
import { recheckPassword } from '../shared/sign-in.ts';
import { RecoveryCodesPage, TwoFactorPage } from './pages/two-factor-page.tsx';

/** The signed-in user as the owner of their factors; null when nobody is signed in. */
export function factorOwner(c: Context<AppEnv>): FactorOwner | null {
  const viewer = c.var.viewer;
  const token = sessionToken(c);
  return viewer && token ? { userId: viewer.userId, email: viewer.email, sessionId: sha256Hex(token) } : null;
}

/**
 * Whether this session signed in (or passed a second factor) within the step-up window:
 * otherwise a new second factor — which ends every other session — needs the password
 * typed again (a session signed in a while ago might be someone else's borrowed one).
 */
export const recentSignIn = (c: Context<AppEnv>) =>
  c.var.viewer?.recentlySignedIn === true || c.var.viewer?.secondFactorFresh === true;

/** Where "Back" leads: the dashboard for partner staff, the organization's page for clients. */
export const homeOf = (c: Context<AppEnv>) => (c.var.viewer?.orgKind === 'partner' ? '/dashboard' : '/org/delegations');

async function showStatus(
  c: Context<AppEnv>,
  who: FactorOwner,
  extra: { error?: string; notice?: string; status?: number } = {},
): Promise<Response> {
  const status = await twoFactorStatus(c.var.deps, who);
  return renderPage(
    c,
    <TwoFactorPage
      csrf={csrfToken(c)}
      status={status}
      home={homeOf(c)}
      required={c.var.viewer?.mustEnrolSecondFactor === true}
      askPassword={!recentSignIn(c)}
      error={extra.error}
      notice={extra.notice}
    />,
    extra.status ?? 200,
  );
}

export function signedIn(c: Context<AppEnv>): FactorOwner {
  const who = factorOwner(c);
  if (!who) throw new AppError('UNAUTHENTICATED', 'Sign in first.');
  return who;
}

/**
 * /account/two-factor: see whether it is on, enrol an authenticator app (QR code and key,
 * then a first code, then the recovery codes once), turn it off with a fresh code. For
 * partner staff and client users alike (the same sign-in).
 */
export function registerTwoFactorPages(app: WebApp): void {
  app.get('/account/two-factor', (c) => {
    const who = factorOwner(c);
    if (!who) return c.redirect('/sign-in?next=/account/two-factor', 303);
    return showStatus(c, who);
  });

  app.post('/account/two-factor/start', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = signedIn(c);
    // A session signed in a while ago might be someone else's borrowed one: a new second
    // factor (which ends the other sessions) then needs the password typed again.
    if (!recentSignIn(c) && !(await recheckPassword(c, who.email, form.current ?? ''))) {
      return showStatus(c, who, { error: 'The current password is not right.', status: 401 });
    }
    await startTotpEnrolment(c.var.deps, who);
    return c.redirect('/account/two-factor', 303);
  });

  app.post('/account/two-factor/confirm', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = signedIn(c);
    const result = await confirmTotpEnrolment(c.var.deps, who, {
      code: (form.code ?? '').slice(0, 100),
      requestId: c.var.requestId,
    });
    if (!result.ok) return showStatus(c, who, { error: refusalMessages[result.reason], status: 422 });
    return renderPage(c, <RecoveryCodesPage codes={result.recoveryCodes} />);
  });

  app.post('/account/two-factor/disable', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = signedIn(c);
    const result = await disableTwoFactor(c.var.deps, who, {
      code: (form.code ?? '').slice(0, 100),
      clientAddress: clientIp(c),
      requestId: c.var.requestId,
    });
    if (!result.ok) {
      if (result.retryAfterSeconds) c.header('Retry-After', String(result.retryAfterSeconds));
      return showStatus(c, who, {
        error: refusalMessages[result.reason],
        status: result.reason === 'rate_limited' ? 429 : 422,
      });
    }
    return showStatus(c, who, { notice: 'The authenticator app is off for this account.' });
  });
}
