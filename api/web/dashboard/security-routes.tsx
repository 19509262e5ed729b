import {
  membersSecondFactors,
  setTwoFactorRequired,
  twoFactorRequired,
} from '../../../services/accounts/two-factor-policy.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { stepUpRedirect } from '../shared/step-up.ts';
import { requiredField } from '../shared/two-factor-policy-form.tsx';
import { SecurityPage } from './pages/security.tsx';
import { notice } from './query.ts';

/** The partner's sign-in settings (owners only: `requireOwnerSession` on the area). */
export function registerSecurityPages(app: WebApp): void {
  app.get('/dashboard/security', async (c) => {
    const { partnerId } = c.var.principal;
    const [required, members] = await Promise.all([
      twoFactorRequired(c.var.deps.db, partnerId),
      membersSecondFactors(c.var.deps.db, partnerId),
    ]);
    return renderPage(
      c,
      <SecurityPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        required={required}
        members={members}
        notice={notice(c)}
      />,
    );
  });

  app.post('/dashboard/security', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const { partnerId, userId } = c.var.principal;
    const required = requiredField(form.required);
    // Requiring it is always allowed; no longer requiring it needs a recent second factor.
    const stepUp = required ? null : stepUpRedirect(c, '/dashboard/security');
    if (stepUp) return stepUp;
    await setTwoFactorRequired(c.var.deps, { userId, orgId: partnerId, partnerId }, required, c.var.requestId);
    return c.redirect('/dashboard/security?notice=policy-saved', 303);
  });
}
