import { seesPartnerData } from '../../../core/partner-permissions.ts';
import {
  acceptancesPerDay,
  delegationCounts,
  operationCounts,
  recentCampaigns,
  recentDeclines,
  sendsPerMinute,
} from '../../../services/dashboard/dashboard.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, renderPage } from '../shared/context.ts';
import { NoAccessPage } from './pages/no-access.tsx';
import { OverviewPage } from './pages/overview.tsx';

/** The front page of the dashboard: counts, recent campaigns, sends, acceptances and declines. */
export function registerOverviewPage(app: WebApp): void {
  app.get('/dashboard', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    // Where everyone lands after signing in: staff with access none get a page that says
    // so rather than an error (the aggregates below would refuse them).
    if (!seesPartnerData(p)) return renderPage(c, <NoAccessPage principal={p} csrf={csrfToken(c)} />);
    const [delegations, operations, campaigns, sends, acceptances, declines] = await Promise.all([
      delegationCounts(db, p),
      operationCounts(db, p),
      recentCampaigns(db, p, 20),
      sendsPerMinute(db, p),
      acceptancesPerDay(db, p),
      recentDeclines(db, p),
    ]);
    return renderPage(
      c,
      <OverviewPage
        principal={p}
        csrf={csrfToken(c)}
        delegations={delegations}
        operations={operations}
        campaigns={campaigns}
        sends={sends}
        acceptances={acceptances}
        declines={declines}
      />,
    );
  });
}
