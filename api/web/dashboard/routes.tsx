import type { Context } from 'hono';
import { z } from 'zod';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { AppError } from '../../../core/errors.ts';
import { canSendOffers, seesClientOrganizations } from '../../../core/partner-permissions.ts';
import { operationStates } from '../../../db/schema/index.ts';
import { createStaff, listStaff, setStaffAccess } from '../../../services/accounts/staff.ts';
import { getCampaign, listCampaignRecipients } from '../../../services/campaigns/campaigns.ts';
import { retryFailedSends } from '../../../services/campaigns/retry.ts';
import {
  acceptancesPerDay,
  campaignSendRate,
  delegationCounts,
  operationCounts,
  recentCampaigns,
  sendsPerMinute,
} from '../../../services/dashboard/dashboard.ts';
import { getDelegation, listDelegations } from '../../../services/delegations/delegations.ts';
import { retryOperation } from '../../../services/operations/retry.ts';
import { listOperations } from '../../../services/operations/views.ts';
import type { App, AppEnv } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';
import { CreateStaffBody, StaffAccess } from '../../routes/staff/schemas.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../context.ts';
import { formLimit, scriptedPageHeaders } from '../page-headers.ts';
import { safeNext } from '../sign-in.ts';
import { loadViewer } from '../viewer.ts';
import { requireOwnerSession, requireStaffSession } from './access.ts';
import { recipientsCsv } from './csv.ts';
import { liveScript } from './layout.tsx';
import { CampaignListPage, CampaignPage } from './pages/campaigns.tsx';
import { DelegationListPage, DelegationPage } from './pages/delegations.tsx';
import { OperationsPage } from './pages/operations.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { StaffPage } from './pages/staff.tsx';

const PAGE = 100;

/** Query parameters of the list pages; anything else in them is a 422 page, not a guess. */
const Filters = z.object({
  state: z.enum(delegationStates).optional(),
  campaignId: z.string().max(100).optional(),
  expiringWithinDays: z.coerce.number().int().min(0).max(3650).optional(),
  cursor: z.string().max(200).optional(),
});
const OperationFilters = z.object({
  state: z.enum(operationStates).optional(),
  cursor: z.string().max(200).optional(),
});

function query<T extends z.ZodType>(c: Context<AppEnv>, schema: T): z.output<T> {
  // Empty fields of a GET form mean "any".
  const raw = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('VALIDATION_FAILED', 'The filters are not valid', { issues: fieldIssues(parsed.error) });
  }
  return parsed.data;
}

/** Fixed sentences for the notice after a form, chosen by a code in the redirect. */
function notice(c: Context<AppEnv>): string | undefined {
  const n = Number(c.req.query('n') ?? 0);
  switch (c.req.query('notice')) {
    case 'retried':
      return n === 0
        ? 'Nothing to retry: no recipient is failed any more.'
        : `${n} ${n === 1 ? 'recipient' : 'recipients'} will be sent the offer again.`;
    case 'operation-retried':
      return 'The operation is queued again.';
    case 'access-saved':
      return 'Access saved. It applies at once, also to operations already queued.';
    default:
      return undefined;
  }
}

const withNotice = (path: string, params: Record<string, string>) =>
  `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`;

/**
 * The operator dashboard under /dashboard: partner staff only, through the same service
 * functions (and so the same permission checks) as the partner API. Server-rendered;
 * `live.js` refreshes the live parts of a page while it is open.
 */
export function registerDashboard(app: App): void {
  // The front door: clients to their organization's page, everyone else to the dashboard
  // (which sends whoever is not signed in to the sign-in page).
  app.get('/', loadViewer, (c) =>
    c.redirect(c.var.viewer?.orgKind === 'client' ? '/org/delegations' : '/dashboard', 302),
  );
  app.get('/dashboard/assets/live.js', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(liveScript, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  // '/dashboard/*' matches '/dashboard' itself too.
  app.use('/dashboard/*', scriptedPageHeaders, loadViewer, requireStaffSession);
  app.on('POST', '/dashboard/*', formLimit);
  app.use('/dashboard/staff/*', requireOwnerSession);

  app.get('/dashboard', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const [delegations, operations, campaigns, sends, acceptances] = await Promise.all([
      delegationCounts(db, p.partnerId),
      operationCounts(db, p),
      recentCampaigns(db, p.partnerId, 20),
      sendsPerMinute(db, p.partnerId),
      acceptancesPerDay(db, p.partnerId),
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
      />,
    );
  });

  app.get('/dashboard/campaigns', async (c) =>
    renderPage(
      c,
      <CampaignListPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        campaigns={await recentCampaigns(c.var.deps.db, c.var.principal.partnerId, 200)}
      />,
    ),
  );

  app.get('/dashboard/campaigns/:id', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const filters = query(c, Filters);
    const campaign = await getCampaign(db, p, c.req.param('id'));
    const [rate, sends, recipients] = await Promise.all([
      campaignSendRate(db, campaign.id),
      sendsPerMinute(db, p.partnerId, campaign.id),
      listCampaignRecipients(db, p, campaign.id, { state: filters.state, cursor: filters.cursor, limit: PAGE }),
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

  app.post('/dashboard/campaigns/:id/retry', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const ids = form.delegationId ? [form.delegationId] : undefined;
    const { retried } = await retryFailedSends(c.var.deps, c.var.principal, id, ids, c.var.requestId);
    const back = safeNext(form.next, `/dashboard/campaigns/${id}`);
    return c.redirect(withNotice(back, { notice: 'retried', n: String(retried) }), 303);
  });

  app.get('/dashboard/delegations', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const filters = query(c, Filters);
    const [counts, page] = await Promise.all([
      delegationCounts(db, p.partnerId),
      listDelegations(db, p, { ...filters, limit: PAGE }),
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
      />,
    );
  });

  app.get('/dashboard/delegations/:id', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const delegation = await getDelegation(db, p, c.req.param('id'));
    const operations = seesClientOrganizations(p)
      ? (await listOperations(db, p, { delegationId: delegation.id, limit: PAGE })).items
      : null;
    return renderPage(
      c,
      <DelegationPage
        principal={p}
        csrf={csrfToken(c)}
        delegation={delegation}
        operations={operations}
        mayRetry={canSendOffers(p)}
        notice={notice(c)}
      />,
    );
  });

  app.get('/dashboard/operations', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    const filters = query(c, OperationFilters);
    // Staff without client access get the API's 403: operations happen inside clients.
    const page = await listOperations(db, p, { state: filters.state, cursor: filters.cursor, limit: PAGE });
    return renderPage(
      c,
      <OperationsPage
        principal={p}
        csrf={csrfToken(c)}
        state={filters.state}
        counts={await operationCounts(db, p)}
        operations={page.items}
        nextCursor={page.nextCursor}
        notice={notice(c)}
      />,
    );
  });

  app.post('/dashboard/operations/:id/retry', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await retryOperation(c.var.deps, c.var.principal, c.req.param('id'), { requestId: c.var.requestId });
    const back = safeNext(form.next, '/dashboard/operations?state=failed');
    return c.redirect(withNotice(back, { notice: 'operation-retried' }), 303);
  });

  app.get('/dashboard/staff', async (c) =>
    renderPage(
      c,
      <StaffPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        staff={await listStaff(c.var.deps, c.var.principal)}
        notice={notice(c)}
      />,
    ),
  );

  app.post('/dashboard/staff', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const parsed = CreateStaffBody.safeParse({ email: form.email, displayName: form.displayName, access: form.access });
    if (!parsed.success) {
      throw new AppError('VALIDATION_FAILED', 'Fill in a name, a valid email and an access level.', {
        issues: fieldIssues(parsed.error),
      });
    }
    const created = await createStaff(c.var.deps, c.var.principal, parsed.data, c.var.requestId);
    return renderPage(
      c,
      <StaffPage
        principal={c.var.principal}
        csrf={csrfToken(c)}
        staff={await listStaff(c.var.deps, c.var.principal)}
        created={created}
      />,
      201,
    );
  });

  app.post('/dashboard/staff/:userId/access', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const access = StaffAccess.safeParse(form.access);
    if (!access.success) throw new AppError('VALIDATION_FAILED', 'Choose none, limited or full.');
    await setStaffAccess(c.var.deps, c.var.principal, c.req.param('userId'), access.data, c.var.requestId);
    return c.redirect('/dashboard/staff?notice=access-saved', 303);
  });
}
