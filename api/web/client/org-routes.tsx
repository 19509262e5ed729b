import type { Context } from 'hono';
import { AppError } from '../../../core/errors.ts';
import type { Viewer } from '../../../services/accounts/sessions.ts';
import {
  membersSecondFactors,
  setTwoFactorRequired,
  setWeeklyDigest,
  twoFactorRequired,
  weeklyDigestOn,
} from '../../../services/accounts/two-factor-policy.ts';
import { listClientAudit, listClientDelegations } from '../../../services/delegations/client-view.ts';
import { terminateByClient } from '../../../services/delegations/termination.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { stepUpRedirect } from '../shared/step-up.ts';
import { requiredField } from '../shared/two-factor-policy-form.tsx';
import { OrgDelegationsPage } from './pages/org-delegations-page.tsx';
import { OrgSecurityPage } from './pages/org-security-page.tsx';

/** The signed-in client admin, or a redirect to sign in / a 403 for anyone else. */
function requireClientAdmin(c: Context<AppEnv>): Viewer | Response {
  const viewer = c.var.viewer;
  if (!viewer) return c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path)}`, 303);
  if (viewer.orgKind !== 'client' || !viewer.isGlobalAdmin) {
    throw new AppError('NOT_AUTHORIZED', 'Only a global administrator of a client organization can see this page.');
  }
  return viewer;
}

export function registerOrgPages(app: WebApp): void {
  app.get('/org/delegations', async (c) => {
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    const [delegations, audit] = await Promise.all([
      listClientDelegations(c.var.deps.db, viewer.orgId),
      listClientAudit(c.var.deps.db, viewer.orgId),
    ]);
    return renderPage(
      c,
      <OrgDelegationsPage
        orgName={viewer.orgName}
        email={viewer.email}
        csrf={csrfToken(c)}
        delegations={delegations}
        audit={audit}
        notice={
          c.req.query('ended') === '1' ? 'The delegation has been ended. Both sides have been emailed.' : undefined
        }
      />,
    );
  });

  app.get('/org/security', async (c) => {
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    const [required, members, digest] = await Promise.all([
      twoFactorRequired(c.var.deps.db, viewer.orgId),
      membersSecondFactors(c.var.deps.db, viewer.orgId),
      weeklyDigestOn(c.var.deps.db, viewer.orgId),
    ]);
    return renderPage(
      c,
      <OrgSecurityPage
        orgName={viewer.orgName}
        csrf={csrfToken(c)}
        required={required}
        members={members}
        digest={digest}
        notice={c.req.query('saved') === '1' ? 'Saved.' : undefined}
      />,
    );
  });

  app.post('/org/security', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    const required = requiredField(form.required);
    // Requiring it is always allowed; no longer requiring it needs a recent second factor.
    const stepUp = required ? null : stepUpRedirect(c, '/org/security');
    if (stepUp) return stepUp;
    await setTwoFactorRequired(
      c.var.deps,
      { userId: viewer.userId, orgId: viewer.orgId, partnerId: null },
      required,
      c.var.requestId,
    );
    return c.redirect('/org/security?saved=1', 303);
  });

  app.post('/org/digest', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    if (form.digest !== 'on' && form.digest !== 'off') {
      throw new AppError('VALIDATION_FAILED', 'Say whether the weekly email is on or off.');
    }
    await setWeeklyDigest(
      c.var.deps,
      { userId: viewer.userId, orgId: viewer.orgId, partnerId: null },
      form.digest === 'on',
      c.var.requestId,
    );
    return c.redirect('/org/security?saved=1', 303);
  });

  app.post('/org/delegations/:id/end', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    await terminateByClient(c.var.deps, viewer, c.req.param('id'), c.var.requestId);
    return c.redirect('/org/delegations?ended=1', 303);
  });
}
