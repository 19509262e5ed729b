import { Hono } from 'hono';
import type { Deps } from '../../lib/deps.ts';
import type { AppEnv, WebApp } from '../env.ts';
import { createApiReference } from './api-reference/routes.ts';
import { createAssets } from './assets/routes.ts';
import { createClientPages } from './client/routes.tsx';
import { createDashboard } from './dashboard/routes.tsx';
import { createDevMailbox } from './dev-mail/routes.tsx';
import { createJobBoard } from './job-board/routes.ts';
import { errorPage, notFoundPage } from './shared/error-page.tsx';
import { loadViewer } from './shared/viewer.ts';

/**
 * Everything served as HTML: the client's pages, the dashboard, the job board, the
 * development mailbox and the API reference, each area with its own middleware (headers,
 * viewer, form limit) on its own paths. Mounted by `createApp` after its request id,
 * logger and metrics middleware.
 *
 * Errors thrown here are error pages: Hono runs a mounted app's `onError` for its routes.
 * Not so its `notFound`, which answers only when this app runs alone: mounted, an address
 * no route matches goes to the top app's, and `createApp` gives the same 404 page on the
 * paths an area claimed (`pageArea`), problem+json elsewhere.
 */
export function createWebApp(deps: Deps): WebApp {
  const web = new Hono<AppEnv>();
  // The front door: clients to their organization's page, everyone else to the dashboard
  // (which sends whoever is not signed in to the sign-in page).
  web.get('/', loadViewer, (c) =>
    c.redirect(c.var.viewer?.orgKind === 'client' ? '/org/delegations' : '/dashboard', 302),
  );
  web.route('/', createAssets());
  web.route('/', createClientPages());
  web.route('/', createDashboard());
  web.route('/', createJobBoard(deps));
  web.route('/', createApiReference());
  web.route('/', createDevMailbox());
  web.onError(errorPage);
  web.notFound(notFoundPage);
  return web;
}
