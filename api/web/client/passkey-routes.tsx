import type { Context } from 'hono';
import { AppError } from '../../../core/errors.ts';
import { type PasskeyRefusal, passkeyRefusalMessages } from '../../../core/passkeys.ts';
import {
  finishPasskeyRegistration,
  listPasskeys,
  removePasskey,
  startPasskeyRegistration,
} from '../../../services/accounts/passkeys.ts';
import { recoveryCodesLeft } from '../../../services/accounts/second-factor.ts';
import type { FactorOwner } from '../../../services/accounts/two-factor.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { passkeyOptionsResponse } from '../shared/passkey-form.tsx';
import { recheckPassword } from '../shared/sign-in.ts';
import { stepUpRedirect } from '../shared/step-up.ts';
import { type PasskeyNotice, PasskeysPage, passkeyNotices } from './pages/passkeys-page.tsx';
import { RecoveryCodesPage } from './pages/two-factor-page.tsx';
import { addFactorGate, factorOwner, homeOf, signedIn } from './two-factor-routes.tsx';

async function showPasskeys(
  c: Context<AppEnv>,
  who: FactorOwner,
  extra: { notice?: string | undefined; error?: string; status?: number } = {},
): Promise<Response> {
  const { db } = c.var.deps;
  return renderPage(
    c,
    <PasskeysPage
      csrf={csrfToken(c)}
      passkeys={await listPasskeys(db, who.userId)}
      recoveryCodesLeft={await recoveryCodesLeft(db, who.userId)}
      home={homeOf(c)}
      gate={await addFactorGate(c, who)}
      notice={extra.notice}
      error={extra.error}
    />,
    extra.status ?? 200,
  );
}

const refusalStatus = (reason: PasskeyRefusal) => (reason === 'rate_limited' ? 429 : 422);

/**
 * /account/passkeys: the signed-in user's passkeys — list, add (the passkey script asks
 * /options for the browser's options, then posts the answer with the name), remove.
 */
export function registerPasskeyPages(app: WebApp): void {
  app.get('/account/passkeys', (c) => {
    const who = factorOwner(c);
    if (!who) return c.redirect('/sign-in?next=/account/passkeys', 303);
    const done = c.req.query('done');
    const notice = done && Object.hasOwn(passkeyNotices, done) ? passkeyNotices[done as PasskeyNotice] : undefined;
    return showPasskeys(c, who, { notice });
  });

  app.post('/account/passkeys/options', (c) =>
    passkeyOptionsResponse(
      c,
      async (form) => {
        const who = signedIn(c);
        const gate = await addFactorGate(c, who);
        if (gate === 'step_up') {
          throw new AppError('NOT_AUTHORIZED', 'Confirm it’s you with your second factor first, then add the passkey.');
        }
        if (gate === 'password' && !(await recheckPassword(c, who.email, form.current ?? ''))) {
          throw new AppError('NOT_AUTHORIZED', 'The current password is not right.');
        }
        return startPasskeyRegistration(c.var.deps, who);
      },
      { status: 401, message: 'Sign in first.' },
    ),
  );

  app.post('/account/passkeys', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = signedIn(c);
    const result = await finishPasskeyRegistration(c.var.deps, who, {
      name: form.name,
      answer: form.answer ?? '',
      requestId: c.var.requestId,
    });
    if (!result.ok) {
      return showPasskeys(c, who, {
        error: passkeyRefusalMessages[result.reason],
        status: refusalStatus(result.reason),
      });
    }
    if (result.recoveryCodes) {
      return renderPage(
        c,
        <RecoveryCodesPage
          codes={result.recoveryCodes}
          heading="Your passkey is added"
          message="From now on, signing in with your password asks for your passkey next — or sign in with the passkey alone."
          back="/account/passkeys"
        />,
      );
    }
    return c.redirect('/account/passkeys?done=added', 303);
  });

  app.post('/account/passkeys/:id/remove', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = signedIn(c);
    // Removing a second factor needs one (turning off the app needs a code, too).
    const stepUp = stepUpRedirect(c, '/account/passkeys');
    if (stepUp) return stepUp;
    const { removed } = await removePasskey(c.var.deps, who, c.req.param('id'), c.var.requestId);
    return c.redirect(`/account/passkeys?done=${removed ? 'removed' : 'gone'}`, 303);
  });
}
