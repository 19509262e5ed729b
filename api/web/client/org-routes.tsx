import type { Context } from 'hono';
import type { AuditFilterInput } from '../../../core/audit-filters.ts';
import { auditFilters } from '../../../core/audit-filters.ts';
import { AppError } from '../../../core/errors.ts';
import type { Viewer } from '../../../services/accounts/sessions.ts';
import {
  membersSecondFactors,
  setTwoFactorRequired,
  setWeeklyDigest,
  twoFactorRequired,
  weeklyDigestOn,
} from '../../../services/accounts/two-factor-policy.ts';
import { auditCsv, queryAudit } from '../../../services/audit/trail.ts';
import { listClientDelegations } from '../../../services/delegations/client-view.ts';
import { terminateByClient } from '../../../services/delegations/termination.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { stepUpRedirect } from '../shared/step-up.ts';
import { requiredField } from '../shared/two-factor-policy-form.tsx';
import { OrgAuditPage } from './pages/org-audit-page.tsx';
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

/** How many of the newest events the delegations page shows; the trail page has them all. */
const RECENT = 20;
/** Events on one page of the trail. */
const AUDIT_PAGE = 50;

/** The trail filters of a page's query string, as typed (empty fields mean "any"). */
function filterInput(c: Context<AppEnv>): AuditFilterInput {
  const q = c.req.query();
  return { actor: q.actor, action: q.action, outcome: q.outcome, from: q.from, to: q.to };
}

export function registerOrgPages(app: WebApp): void {
  app.get('/org/audit', async (c) => {
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    const values = filterInput(c);
    const cursor = c.req.query('cursor') || undefined;
    const page = await queryAudit(c.var.deps.db, { orgId: viewer.orgId }, auditFilters(values), {
      cursor,
      limit: AUDIT_PAGE,
    });
    return renderPage(
      c,
      <OrgAuditPage
        orgName={viewer.orgName}
        entries={page.items}
        values={values}
        cursor={cursor}
        nextCursor={page.nextCursor}
      />,
    );
  });

  app.get('/org/audit.csv', async (c) => {
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    const filters = auditFilters(filterInput(c));
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="audit.csv"');
    c.header('Cache-Control', 'no-store');
    return c.body(auditCsv(c.var.deps.db, { orgId: viewer.orgId }, filters));
  });

  app.get('/org/delegations', async (c) => {
    const viewer = requireClientAdmin(c);
    if (viewer instanceof Response) return viewer;
    const [delegations, audit] = await Promise.all([
      listClientDelegations(c.var.deps.db, viewer.orgId),
      queryAudit(c.var.deps.db, { orgId: viewer.orgId }, {}, { limit: RECENT }),
    ]);
    return renderPage(
      c,
      <OrgDelegationsPage
        orgName={viewer.orgName}
        email={viewer.email}
        csrf={csrfToken(c)}
        delegations={delegations}
        audit={audit.items}
        more={audit.nextCursor !== null}
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
