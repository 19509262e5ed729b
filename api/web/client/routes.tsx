import { Hono } from 'hono';
import type { AppEnv, WebApp } from '../../env.ts';
import { pageArea } from '../shared/error-page.tsx';
import { formLimit, pageHeaders } from '../shared/page-headers.ts';
import { loadViewer } from '../shared/viewer.ts';
import { registerAccountPages } from './account-routes.tsx';
import { registerAmendmentPages } from './amendment-routes.tsx';
import { registerEndLinkPages } from './end-routes.tsx';
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
];

/**
 * Pages that do not load the viewer. The end link works without sign-in, whoever is signed
 * in: loading the viewer would send an admin who must change a temporary password — what a
 * partner's reset leaves — to the password page instead, with the link's key in `?next=`.
 */
const withoutViewer = new Set(['/end/*']);

/**
 * The pages a client's administrator sees: the offer link, signing in and out, sign-up,
 * their account, and their organization's delegations. Scriptless (`pageHeaders`); their
 * error pages lead back to the organization's page.
 */
export function createClientPages(): WebApp {
  const pages = new Hono<AppEnv>();
  for (const path of clientPaths) {
    pages.use(path, pageArea('org'), pageHeaders, ...(withoutViewer.has(path) ? [] : [loadViewer]));
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
  return pages;
}
