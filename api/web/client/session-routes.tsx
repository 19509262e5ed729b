import { refusalMessages } from '../../../core/second-factor.ts';
import { endSession } from '../../../services/accounts/sessions.ts';
import {
  completeSignInChallenge,
  endSignInChallenge,
  findSignInChallenge,
} from '../../../services/accounts/sign-in-challenges.ts';
import type { WebApp } from '../../env.ts';
import {
  clearSessionCookie,
  clearSignInChallengeCookie,
  csrfToken,
  formFields,
  renderPage,
  sessionClient,
  sessionToken,
  setSessionCookie,
  signInChallengeToken,
  verifyCsrf,
} from '../shared/context.ts';
import { attemptSignIn, SECOND_STEP_PATH, safeNext } from '../shared/sign-in.ts';
import { SecondFactorPage } from './pages/second-factor-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';

export function registerSessionPages(app: WebApp): void {
  app.get('/sign-in', (c) =>
    renderPage(c, <SignInPage csrf={csrfToken(c)} next={safeNext(c.req.query('next'), '/')} />),
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
  app.get(SECOND_STEP_PATH, async (c) => {
    const next = safeNext(c.req.query('next'), '/');
    if (!(await findSignInChallenge(c.var.deps.db, signInChallengeToken(c)))) {
      clearSignInChallengeCookie(c);
      return renderPage(c, <SignInPage csrf={csrfToken(c)} next={next} error={refusalMessages.sign_in_expired} />, 401);
    }
    return renderPage(c, <SecondFactorPage csrf={csrfToken(c)} next={next} />);
  });

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
    return renderPage(
      c,
      <SecondFactorPage csrf={csrfToken(c)} next={next} error={error} />,
      result.reason === 'rate_limited' ? 429 : 401,
    );
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
