import type { Context } from 'hono';
import { passkeyRefusalMessages } from '../../../core/passkeys.ts';
import { refusalMessages } from '../../../core/second-factor.ts';
import { hasAnyPartner } from '../../../services/accounts/partners.ts';
import {
  completeSignInChallengeWithPasskey,
  finishPasskeySignIn,
  startPasskeySignIn,
  startSecondStepPasskey,
} from '../../../services/accounts/passkey-sign-in.ts';
import { secondFactorsOf } from '../../../services/accounts/second-factor.ts';
import { endSession } from '../../../services/accounts/sessions.ts';
import {
  completeSignInChallenge,
  endSignInChallenge,
  findSignInChallenge,
} from '../../../services/accounts/sign-in-challenges.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import {
  clearSessionCookie,
  clearSignInChallengeCookie,
  clientIp,
  csrfToken,
  formFields,
  renderPage,
  sessionClient,
  sessionToken,
  setSessionCookie,
  signInChallengeToken,
  verifyCsrf,
} from '../shared/context.ts';
import { passkeyOptionsResponse } from '../shared/passkey-form.tsx';
import { attemptSignIn, continueSignIn, SECOND_STEP_PATH, safeNext } from '../shared/sign-in.ts';
import { SecondFactorPage } from './pages/second-factor-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';

/**
 * The second step's page for the challenge behind the cookie (offering the user's
 * factors) — or, when it is gone, the first step again with why.
 */
async function showSecondStep(
  c: Context<AppEnv>,
  next: string,
  extra: { error?: string | undefined; status?: number } = {},
): Promise<Response> {
  const { db } = c.var.deps;
  const challenge = await findSignInChallenge(db, signInChallengeToken(c));
  if (!challenge) {
    clearSignInChallengeCookie(c);
    return renderPage(c, <SignInPage csrf={csrfToken(c)} next={next} error={refusalMessages.sign_in_expired} />, 401);
  }
  const factors = await secondFactorsOf(db, challenge.userId);
  return renderPage(
    c,
    <SecondFactorPage csrf={csrfToken(c)} next={next} factors={factors} error={extra.error} />,
    extra.status ?? 200,
  );
}

export function registerSessionPages(app: WebApp): void {
  app.get('/sign-in', async (c) =>
    renderPage(
      c,
      <SignInPage
        csrf={csrfToken(c)}
        next={safeNext(c.req.query('next'), '/')}
        noPartnerYet={!(await hasAnyPartner(c.var.deps.db))}
      />,
    ),
  );

  app.post('/sign-in', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const next = safeNext(form.next, '/');
    const result = await attemptSignIn(c, form, next);
    if (!result.ok) {
      return renderPage(
        c,
        <SignInPage csrf={csrfToken(c)} next={next} email={result.email} error="The email or password is not right." />,
        401,
      );
    }
    return c.redirect(result.location, 303);
  });

  // The second step, for users with two-factor sign-in: reached only with a live
  // challenge cookie from a right password; without one, back to the first step.
  app.get(SECOND_STEP_PATH, (c) => showSecondStep(c, safeNext(c.req.query('next'), '/')));

  app.post(SECOND_STEP_PATH, async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const next = safeNext(form.next, '/');
    const result = await completeSignInChallenge(c.var.deps, {
      token: signInChallengeToken(c),
      code: (form.code ?? '').slice(0, 100),
      client: sessionClient(c),
      requestId: c.var.requestId,
    });
    if (result.ok) {
      clearSignInChallengeCookie(c);
      setSessionCookie(c, result.sessionToken);
      return c.redirect(next, 303);
    }
    const error = refusalMessages[result.reason];
    if (result.reason === 'sign_in_expired' || result.reason === 'not_enrolled') {
      clearSignInChallengeCookie(c);
      return renderPage(c, <SignInPage csrf={csrfToken(c)} next={next} error={error} />, 401);
    }
    if (result.retryAfterSeconds) c.header('Retry-After', String(result.retryAfterSeconds));
    return showSecondStep(c, next, { error, status: result.reason === 'rate_limited' ? 429 : 401 });
  });

  // Passkeys (services/accounts/passkey-sign-in.ts): alone, instead of password and code.
  app.post('/sign-in/passkey/options', (c) =>
    passkeyOptionsResponse(c, () => startPasskeySignIn(c.var.deps), {
      status: 409,
      message: passkeyRefusalMessages.challenge_unknown,
    }),
  );

  app.post('/sign-in/passkey', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const next = safeNext(form.next, '/');
    const result = await finishPasskeySignIn(c.var.deps, {
      answer: (form.answer ?? '').slice(0, 16_000),
      clientAddress: clientIp(c),
      requestId: c.var.requestId,
    });
    if (!result.ok) {
      if (result.retryAfterSeconds) c.header('Retry-After', String(result.retryAfterSeconds));
      return renderPage(
        c,
        <SignInPage csrf={csrfToken(c)} next={next} error={passkeyRefusalMessages[result.reason]} />,
        result.reason === 'rate_limited' ? 429 : 401,
      );
    }
    // A passkey is a strong method: the session starts with its second factor passed.
    const location = await continueSignIn(c, { userId: result.userId, method: 'passkey', hasSecondFactor: true, next });
    return c.redirect(location, 303);
  });

  // The second step with a passkey, after a right password.
  app.post(`${SECOND_STEP_PATH}/passkey/options`, (c) =>
    passkeyOptionsResponse(c, () => startSecondStepPasskey(c.var.deps, signInChallengeToken(c)), {
      status: 401,
      message: refusalMessages.sign_in_expired,
    }),
  );

  app.post(`${SECOND_STEP_PATH}/passkey`, async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const next = safeNext(form.next, '/');
    const result = await completeSignInChallengeWithPasskey(c.var.deps, {
      token: signInChallengeToken(c),
      answer: (form.answer ?? '').slice(0, 16_000),
      client: sessionClient(c),
      requestId: c.var.requestId,
    });
    if (result.ok) {
      clearSignInChallengeCookie(c);
      setSessionCookie(c, result.sessionToken);
      return c.redirect(next, 303);
    }
    if (result.retryAfterSeconds) c.header('Retry-After', String(result.retryAfterSeconds));
    const error = passkeyRefusalMessages[result.reason];
    return showSecondStep(c, next, { error, status: result.reason === 'rate_limited' ? 429 : 401 });
  });

  app.post('/sign-out', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await endSession(c.var.deps.db, sessionToken(c));
    await endSignInChallenge(c.var.deps.db, signInChallengeToken(c));
    clearSessionCookie(c);
    clearSignInChallengeCookie(c);
    return c.redirect(safeNext(form.next, '/sign-in'), 303);
  });
}
