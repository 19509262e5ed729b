import { Hono } from 'hono';
import type { AppEnv, WebApp } from '../../env.ts';
import { pageArea } from '../shared/error-page.tsx';
import { formLimit, scriptedPageHeaders } from '../shared/page-headers.ts';
import { requireOwnerSession, requireStaffSession } from '../shared/staff-access.ts';
import { loadViewer } from '../shared/viewer.ts';
import { registerCampaignPages } from './campaign-routes.tsx';
import { registerDelegationPages } from './delegation-routes.tsx';
import { registerOperationPages } from './operation-routes.tsx';
import { registerOverviewPage } from './overview-routes.tsx';
import { liveScript } from './pages/layout.tsx';
import { registerSsoSettingsPages } from './sso-settings-routes.tsx';
import { registerStaffPages } from './staff-routes.tsx';

/**
 * The operator dashboard under /dashboard: partner staff only, through the same service
 * functions (and so the same permission checks) as the partner API. Server-rendered;
 * `live.js` refreshes the live parts of a page while it is open.
 */
export function createDashboard(): WebApp {
  const pages = new Hono<AppEnv>();
  pages.get('/dashboard/assets/live.js', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(liveScript, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  // '/dashboard/*' matches '/dashboard' itself too.
  pages.use('/dashboard/*', pageArea('dashboard'), scriptedPageHeaders, loadViewer, requireStaffSession);
  pages.on('POST', '/dashboard/*', formLimit);
  pages.use('/dashboard/staff/*', requireOwnerSession);
  pages.use('/dashboard/single-sign-on/*', requireOwnerSession);

  registerOverviewPage(pages);
  registerCampaignPages(pages);
  registerDelegationPages(pages);
  registerOperationPages(pages);
  registerStaffPages(pages);
  registerSsoSettingsPages(pages);
  return pages;
}
