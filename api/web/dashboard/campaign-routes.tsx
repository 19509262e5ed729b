import { canSendOffers } from '../../../core/partner-permissions.ts';
import { getCampaign, listCampaignRecipients, listRejectedRows } from '../../../services/campaigns/campaigns.ts';
import { listCampaignReminders } from '../../../services/campaigns/reminders.ts';
import { campaignSendRate, recentCampaigns, sendsPerMinute } from '../../../services/dashboard/dashboard.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, renderPage } from '../shared/context.ts';
import { recipientsCsv } from './csv.ts';
import { CampaignListPage, CampaignPage } from './pages/campaigns.tsx';
import { REJECTED_ROWS_SHOWN } from './pages/rejected-rows.tsx';
import { Filters, notice, PAGE, query } from './query.ts';
import { newSubmission } from './submit-once.ts';

/** Campaigns: the list, one campaign with its recipients and their CSV. */
export function registerCampaignPages(app: WebApp): void {
  app.get('/dashboard/campaigns', async (c) =>
    renderPage(
      c,
      <CampaignListPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        campaigns={await recentCampaigns(c.var.deps.db, c.var.principal, 200)}
        mayCreate={canSendOffers(c.var.principal)}
      />,
    ),
  );

  app.get('/dashboard/campaigns/:id', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const filters = query(c, Filters);
    const campaign = await getCampaign(db, p, c.req.param('id'));
    const [rate, sends, recipients, rejected, reminders] = await Promise.all([
      campaignSendRate(db, p, campaign.id),
      sendsPerMinute(db, p, campaign.id),
      listCampaignRecipients(db, p, campaign.id, { state: filters.state, cursor: filters.cursor, limit: PAGE }),
      listRejectedRows(db, p, campaign.id, REJECTED_ROWS_SHOWN),
      listCampaignReminders(db, p, campaign.id),
    ]);
    return renderPage(
      c,
      <CampaignPage
        principal={p}
        csrf={csrfToken(c)}
        campaign={campaign}
        rate={rate}
        sends={sends}
        state={filters.state}
        recipients={recipients.items}
        nextCursor={recipients.nextCursor}
        rejected={rejected}
        reminders={reminders}
        submission={newSubmission()}
        mayRetry={canSendOffers(p)}
        notice={notice(c)}
      />,
    );
  });

  app.get('/dashboard/campaigns/:id/recipients.csv', async (c) => {
    const filters = query(c, Filters);
    const campaign = await getCampaign(c.var.deps.db, c.var.principal, c.req.param('id'));
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header(
      'Content-Disposition',
      `attachment; filename="${campaign.id}${filters.state ? `-${filters.state}` : ''}.csv"`,
    );
    c.header('Cache-Control', 'no-store');
    return c.body(recipientsCsv(c.var.deps.db, c.var.principal, campaign.id, filters.state));
  });
}
