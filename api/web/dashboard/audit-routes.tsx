import type { Context } from 'hono';
import { auditFilters } from '../../../core/audit-filters.ts';
import { auditCsv, partnerAuditScope, queryAudit } from '../../../services/audit/trail.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import type { TrailValues } from '../shared/audit-trail.tsx';
import { csrfToken, renderPage } from '../shared/context.ts';
import { AuditPage } from './pages/audit.tsx';

/** Events on one page of the trail. */
const AUDIT_PAGE = 50;

function trailValues(c: Context<AppEnv>): TrailValues {
  const q = c.req.query();
  return {
    actor: q.actor,
    action: q.action,
    outcome: q.outcome,
    from: q.from,
    to: q.to,
    clientOrgId: q.clientOrgId?.slice(0, 100) || undefined,
  };
}

/** The partner's audit trail (owners only: the service refuses anyone else, as the API does). */
export function registerAuditPages(app: WebApp): void {
  app.get('/dashboard/audit', async (c) => {
    const values = trailValues(c);
    const scope = partnerAuditScope(c.var.principal, values.clientOrgId);
    const cursor = c.req.query('cursor') || undefined;
    const page = await queryAudit(c.var.deps.db, scope, auditFilters(values), { cursor, limit: AUDIT_PAGE });
    return renderPage(
      c,
      <AuditPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        entries={page.items}
        values={values}
        clientName={values.clientOrgId ? page.items[0]?.orgName : undefined}
        cursor={cursor}
        nextCursor={page.nextCursor}
      />,
    );
  });

  app.get('/dashboard/audit.csv', async (c) => {
    const values = trailValues(c);
    const scope = partnerAuditScope(c.var.principal, values.clientOrgId);
    const filters = auditFilters(values);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="audit.csv"');
    c.header('Cache-Control', 'no-store');
    return c.body(auditCsv(c.var.deps.db, scope, filters));
  });
}
