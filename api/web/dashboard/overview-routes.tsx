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
import { OverviewPage } from './pages/overview.tsx';

/** The front page of the dashboard: counts, recent campaigns, sends, acceptances and declines. */
export function registerOverviewPage(app: WebApp): void {
  app.get('/dashboard', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const [delegations, operations, campaigns, sends, acceptances, declines] = await Promise.all([
      delegationCounts(db, p.partnerId),
      operationCounts(db, p),
      recentCampaigns(db, p.partnerId, 20),
      sendsPerMinute(db, p.partnerId),
      acceptancesPerDay(db, p.partnerId),
      recentDeclines(db, p.partnerId),
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
