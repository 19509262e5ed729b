import { Hono } from 'hono';
import type { AppEnv, WebApp } from '../../env.ts';
import { pageArea } from '../shared/error-page.tsx';
import { formLimit, scriptedPageHeaders, uploadLimit } from '../shared/page-headers.ts';
import { requireOwnerSession, requireStaffSession } from '../shared/staff-access.ts';
import { requireStepUp } from '../shared/step-up.ts';
import { loadViewer } from '../shared/viewer.ts';
import { registerAuditPages } from './audit-routes.tsx';
import { registerCampaignCarePages } from './campaign-care-routes.tsx';
import { registerCampaignPages } from './campaign-routes.tsx';
import { CAMPAIGN_UPLOAD_PATH, registerCampaignUploadPages } from './campaign-upload-routes.tsx';
import { registerClientPages } from './client-routes.tsx';
import { registerDelegationPages } from './delegation-routes.tsx';
import { registerOfferPages } from './offer-routes.tsx';
import { registerOperationPages } from './operation-routes.tsx';
import { registerOverviewPage } from './overview-routes.tsx';
import { liveScript } from './pages/layout.tsx';
import { registerSecurityPages } from './security-routes.tsx';
import { registerSsoSettingsPages } from './sso-settings-routes.tsx';
import { registerStaffPages } from './staff-routes.tsx';
import { registerTokenPages } from './token-routes.tsx';
import { registerWebhookPages } from './webhook-routes.tsx';

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
  // Forms are a few short fields; the one that uploads a recipient list is a file.
  pages.on('POST', '/dashboard/*', (c, next) =>
    c.req.path === CAMPAIGN_UPLOAD_PATH ? uploadLimit(c, next) : formLimit(c, next),
  );
  for (const ownersOnly of [
    '/dashboard/staff/*',
    '/dashboard/security/*',
    '/dashboard/single-sign-on/*',
    '/dashboard/webhooks/*',
  ]) {
    pages.use(ownersOnly, requireOwnerSession);
  }
  // Changes that give someone a way in need a second factor within the last minutes (after
  // the owners' gate: whoever may not make the change at all is told so, not asked to confirm).
  // The sign-in settings check it in their handlers: only one direction of them needs it.
  // Removing a member takes no way in, but ends someone's work at once: confirmed all the same.
  for (const path of ['/dashboard/staff', '/dashboard/staff/:userId/access', '/dashboard/staff/:userId/remove']) {
    pages.on('POST', path, requireStepUp('/dashboard/staff'));
  }
  pages.on('POST', '/dashboard/tokens', requireStepUp('/dashboard/tokens'));
  // A webhook sends the partner's data about its clients to the URL given, signed with a
  // secret the page shows: adding one, pointing it elsewhere, or a new secret is a way in.
  for (const path of ['/dashboard/webhooks', '/dashboard/webhooks/:id/settings', '/dashboard/webhooks/:id/rotate']) {
    pages.on('POST', path, requireStepUp('/dashboard/webhooks'));
  }
  pages.on('POST', '/dashboard/single-sign-on', requireStepUp('/dashboard/single-sign-on'));

  registerOverviewPage(pages);
  registerOfferPages(pages);
  // Before the campaign's own pages: `/dashboard/campaigns/new` is not a campaign's id.
  registerCampaignUploadPages(pages);
  registerCampaignPages(pages);
  registerCampaignCarePages(pages);
  registerDelegationPages(pages);
  registerClientPages(pages);
  registerOperationPages(pages);
  registerStaffPages(pages);
  registerSecurityPages(pages);
  registerTokenPages(pages);
  registerWebhookPages(pages);
  registerSsoSettingsPages(pages);
  registerAuditPages(pages);
  return pages;
}
