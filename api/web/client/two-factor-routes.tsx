import type { Context } from 'hono';
import { AppError } from '../../../core/errors.ts';
import { refusalMessages } from '../../../core/second-factor.ts';
import { sha256Hex } from '../../../lib/secrets.ts';
import { hasSecondFactor } from '../../../services/accounts/second-factor.ts';
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
import { stepUpRedirect } from '../shared/step-up.ts';
import { RecoveryCodesPage, TwoFactorPage } from './pages/two-factor-page.tsx';

/** The signed-in user as the owner of their factors; null when nobody is signed in. */
export function factorOwner(c: Context<AppEnv>): FactorOwner | null {
  const viewer = c.var.viewer;
  const token = sessionToken(c);
  return viewer && token ? { userId: viewer.userId, email: viewer.email, sessionId: sha256Hex(token) } : null;
}

/**
 * What adding a second factor (which ends every other session) needs of this session.
 * With a second factor already held, the step-up with it (`step_up`): the password alone,
 * which a phisher may have with a borrowed session, must not put their own device on the
 * account. Without one, the password typed again (`password`) unless the sign-in was just
 * now; else nothing more (`open`).
 */
export async function addFactorGate(c: Context<AppEnv>, who: FactorOwner): Promise<'open' | 'password' | 'step_up'> {
  const viewer = c.var.viewer;
  if (await hasSecondFactor(c.var.deps.db, who.userId)) return viewer?.secondFactorFresh ? 'open' : 'step_up';
  return viewer?.recentlySignedIn || viewer?.secondFactorFresh ? 'open' : 'password';
}

/**
 * Applies {@link addFactorGate} to a request that adds a factor: null when it may go on,
 * else the refusal — the step-up's page for `step_up`, `refusePassword` for a password
 * that is missing or wrong.
 */
export async function checkAddFactor(
  c: Context<AppEnv>,
  who: FactorOwner,
  current: string | undefined,
  back: string,
  refusePassword: () => Response | Promise<Response>,
): Promise<Response | null> {
  const gate = await addFactorGate(c, who);
  if (gate === 'step_up') return stepUpRedirect(c, back);
  if (gate === 'password' && !(await recheckPassword(c, who.email, current ?? ''))) return refusePassword();
  return null;
}

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
      askPassword={(await addFactorGate(c, who)) === 'password'}
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
    const refused = await checkAddFactor(c, who, form.current, '/account/two-factor', () =>
      showStatus(c, who, { error: 'The current password is not right.', status: 401 }),
    );
    if (refused) return refused;
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
