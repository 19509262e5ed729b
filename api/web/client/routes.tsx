import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv, WebApp } from '../../env.ts';
import { pageArea } from '../shared/error-page.tsx';
import { formLimit, pageHeaders, scriptedPageHeaders } from '../shared/page-headers.ts';
import { loadViewer } from '../shared/viewer.ts';
import { registerAccountPages } from './account-routes.tsx';
import { registerAmendmentPages } from './amendment-routes.tsx';
import { registerEndLinkPages } from './end-routes.tsx';
import { registerInvitationPages } from './invitation-routes.tsx';
import { registerOfferPages } from './offer-routes.tsx';
import { registerOrgPages } from './org-routes.tsx';
import { registerSessionPages } from './session-routes.tsx';
import { registerSignupPages } from './signup-routes.tsx';
import { registerSsoPages } from './sso-routes.tsx';

/** Where the client's pages live; `/x/*` covers `/x` itself too. */
const clientPaths = [
  '/offers/*',
  '/org/*',
  '/sign-in/*',
  '/sign-out/*',
  '/account/*',
  '/signup/*',
  '/end/*',
  '/amendments/*',
  '/invitations/*',
];

/**
 * Pages that do not load the viewer. The end link and a staff invitation work without
 * sign-in, whoever is signed in: loading the viewer would send someone who must change a
 * temporary password — what a partner's reset leaves — to the password page instead, with
 * the link's key in `?next=`.
 */
const withoutViewer = new Set(['/end/*', '/invitations/*']);

/**
 * Pages with passkey forms, which run this site's passkey script (api/web/shared/passkey-script.ts):
 * signing in (and the pages its refusals are rendered at), the passkeys page and the
 * step-up's confirmation. The
 * rest of the area runs none.
 */
const scripted = (path: string) =>
  path === '/sign-in' ||
  path.startsWith('/sign-in/') ||
  path === '/account/passkeys' ||
  path.startsWith('/account/passkeys/') ||
  path === '/account/confirm' ||
  path.startsWith('/account/confirm/');

/** Headers chosen by path: one of the two, never both (the outer one would overwrite the inner). */
const areaHeaders = createMiddleware<AppEnv>((c, next) =>
  scripted(c.req.path) ? scriptedPageHeaders(c, next) : pageHeaders(c, next),
);

/**
 * The pages a client's administrator sees: the offer link, signing in and out, sign-up,
 * their account, and their organization's delegations. Scriptless (`pageHeaders`) but for
 * the passkey forms; their
 * error pages lead back to the organization's page.
 */
export function createClientPages(): WebApp {
  const pages = new Hono<AppEnv>();
  for (const path of clientPaths) {
    pages.use(path, pageArea('org'), areaHeaders, ...(withoutViewer.has(path) ? [] : [loadViewer]));
    pages.on('POST', path, formLimit);
  }
  registerOfferPages(pages);
  registerOrgPages(pages);
  registerSessionPages(pages);
  registerSsoPages(pages);
  registerSignupPages(pages);
  registerAccountPages(pages);
  registerAmendmentPages(pages);
  registerEndLinkPages(pages);
  registerInvitationPages(pages);
  return pages;
}
