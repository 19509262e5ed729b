import type { Context } from 'hono';
import { passkeyRefusalMessages } from '../../../core/passkeys.ts';
import { refusalMessages } from '../../../core/second-factor.ts';
import { finishPasskeyConfirmation, startPasskeyConfirmation } from '../../../services/accounts/passkey-sign-in.ts';
import { secondFactorsOf } from '../../../services/accounts/second-factor.ts';
import type { SessionOwner } from '../../../services/accounts/sessions.ts';
import { confirmWithCode } from '../../../services/accounts/step-up.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { clientIp, csrfToken, formFields, renderPage, sessionOwner, verifyCsrf } from '../shared/context.ts';
import { passkeyOptionsResponse } from '../shared/passkey-form.tsx';
import { safeNext } from '../shared/sign-in.ts';
import { STEP_UP_PATH } from '../shared/step-up.ts';
import { ConfirmPage } from './pages/confirm-page.tsx';

const homeOf = (c: Context<AppEnv>) => (c.var.viewer?.orgKind === 'partner' ? '/dashboard' : '/org/delegations');

async function showConfirm(
  c: Context<AppEnv>,
  who: SessionOwner,
  next: string,
  refusal?: { error: string; status: 401 | 422 | 429; retryAfterSeconds?: number | undefined },
): Promise<Response> {
  if (refusal?.retryAfterSeconds) c.header('Retry-After', String(refusal.retryAfterSeconds));
  const factors = await secondFactorsOf(c.var.deps.db, who.userId);
  return renderPage(
    c,
    <ConfirmPage csrf={csrfToken(c)} next={next} factors={factors} error={refusal?.error} />,
    refusal?.status ?? 200,
  );
}

/**
 * /account/confirm: the step-up before a sensitive change (api/web/shared/step-up.ts sends
 * the browser here). A passkey, a code from the app or a recovery code — checked, limited
 * and audited as at sign-in — marks this session as having passed a second factor now;
 * then back to `next`.
 */
export function registerStepUpPages(app: WebApp): void {
  app.get(STEP_UP_PATH, async (c) => {
    const who = sessionOwner(c);
    const next = safeNext(c.req.query('next'), homeOf(c));
    if (!who) return c.redirect(`/sign-in?next=${encodeURIComponent(`${STEP_UP_PATH}?next=${next}`)}`, 303);
    return showConfirm(c, who, next);
  });

  app.post(STEP_UP_PATH, async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = sessionOwner(c);
    const next = safeNext(form.next, homeOf(c));
    if (!who) return c.redirect('/sign-in', 303);
    const result = await confirmWithCode(c.var.deps, who, {
      code: (form.code ?? '').slice(0, 100),
      clientAddress: clientIp(c),
      requestId: c.var.requestId,
    });
    if (result.ok) return c.redirect(next, 303);
    return showConfirm(c, who, next, {
      error: refusalMessages[result.reason],
      status: result.reason === 'rate_limited' ? 429 : 401,
      retryAfterSeconds: result.retryAfterSeconds,
    });
  });

  app.post(`${STEP_UP_PATH}/passkey/options`, (c) => {
    const who = sessionOwner(c);
    return passkeyOptionsResponse(c, async () => (who ? startPasskeyConfirmation(c.var.deps, who.userId) : null), {
      status: 409,
      message: 'No passkey is set up for this account: enter a code instead.',
    });
  });

  app.post(`${STEP_UP_PATH}/passkey`, async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const who = sessionOwner(c);
    const next = safeNext(form.next, homeOf(c));
    if (!who) return c.redirect('/sign-in', 303);
    const result = await finishPasskeyConfirmation(c.var.deps, who, {
      answer: form.answer ?? '',
      clientAddress: clientIp(c),
      requestId: c.var.requestId,
    });
    if (result.ok) return c.redirect(next, 303);
    return showConfirm(c, who, next, {
      error: passkeyRefusalMessages[result.reason],
      status: result.reason === 'rate_limited' ? 429 : 422,
      retryAfterSeconds: 'retryAfterSeconds' in result ? result.retryAfterSeconds : undefined,
    });
  });
}
