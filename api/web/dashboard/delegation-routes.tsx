import { canManageDelegations, canSendOffers, seesClientOrganizations } from '../../../core/partner-permissions.ts';
import { delegationCounts, recentCampaigns } from '../../../services/dashboard/dashboard.ts';
import { getDelegation, listDelegations } from '../../../services/delegations/delegations.ts';
import { describeOperations, listOperations } from '../../../services/operations/views.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, renderPage } from '../shared/context.ts';
import { clientWork } from './client-routes.tsx';
import { DelegationPage } from './pages/delegation-page.tsx';
import { DelegationListPage } from './pages/delegations.tsx';
import { Filters, notice, PAGE, query } from './query.ts';

/** Delegations: the filtered list, and one delegation with its operations. */
export function registerDelegationPages(app: WebApp): void {
  app.get('/dashboard/delegations', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const filters = query(c, Filters);
    const [counts, page, campaigns] = await Promise.all([
      delegationCounts(db, p),
      listDelegations(db, p, { ...filters, limit: PAGE }),
      recentCampaigns(db, p, 200),
    ]);
    return renderPage(
      c,
      <DelegationListPage
        principal={p}
        csrf={csrfToken(c)}
        counts={counts}
        filters={filters}
        delegations={page.items}
        nextCursor={page.nextCursor}
        campaigns={campaigns}
      />,
    );
  });

  app.get('/dashboard/delegations/:id', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const delegation = await getDelegation(db, p, c.req.param('id'));
    const operations = seesClientOrganizations(p)
      ? await describeOperations(
          db,
          p,
          (await listOperations(db, p, { delegationId: delegation.id, limit: PAGE })).items,
        )
      : null;
    return renderPage(
      c,
      <DelegationPage
        principal={p}
        csrf={csrfToken(c)}
        delegation={delegation}
        work={await clientWork(c, delegation)}
        mayEnd={canManageDelegations(p)}
        operations={operations}
        mayRetry={canSendOffers(p)}
        notice={notice(c)}
      />,
    );
  });
}
