import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from '../../../core/errors.ts';
import type { Deps } from '../../../lib/deps.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { pageArea } from '../shared/error-page.tsx';
import { requireOperatorSession, requireStaffSession } from '../shared/staff-access.ts';
import { loadViewer } from '../shared/viewer.ts';

/** Where the job board is served. */
export const JOB_BOARD_PATH = '/admin/queues';

/**
 * bull-board's page: a React app from its own static files (scripts from here only), an
 * inline loading screen and React's style attributes (so inline styles), JSON from its
 * API, a syntax-highlighting worker. Nothing from elsewhere: its stylesheet link to Google
 * Fonts is taken out of the page ({@link boardPage}), and would be refused if it came
 * back. `base-uri 'self'` because the page locates everything through its `<base href>`.
 */
const boardHeaders = secureHeaders({
  xFrameOptions: 'DENY',
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    workerSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'self'"],
  },
});

/** Where the board leads back to. */
const DASHBOARD_PATH = '/dashboard';

/**
 * The board's page as bull-board renders it, less what would reach another site — its
 * stylesheet link to Google Fonts (the board's CSS names system fonts after those) or any
 * other `<link>` to an absolute address — and with a way back to the dashboard that does
 * not wait for the board's scripts (its own menu has one too: `miscLinks`).
 */
export function boardPage(html: string): string {
  const withoutElsewhere = html.replace(/<link\b[^>]*\bhref=["']?(?:https?:)?\/\/[^>]*>\s*/gi, '');
  const back = `<a href="${DASHBOARD_PATH}" style="${backLinkStyle}">← Dashboard</a>`;
  return withoutElsewhere.replace(/<body\b[^>]*>/i, (body) => `${body}\n${back}`);
}

/** Bottom left, at the foot of the queue list (above the board's version), clear of its header and actions. */
const backLinkStyle =
  'position:fixed;left:.75rem;bottom:2.25rem;z-index:1000;padding:.3rem .7rem;border-radius:6px;background:#24292f;color:#fff;font:14px/1.4 system-ui,sans-serif;text-decoration:none;box-shadow:0 1px 3px rgba(0,0,0,.3)';

/** Serves the board's page through {@link boardPage}; its API answers and static files as they are. */
const adjustBoardPage = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.status !== 200 || !c.res.headers.get('content-type')?.startsWith('text/html')) return;
  const headers = new Headers(c.res.headers);
  headers.delete('content-length');
  const page = boardPage(await c.res.text());
  // Unset first: Hono would otherwise copy the old response's headers onto the new one.
  c.res = undefined;
  c.res = new Response(page, { status: 200, headers });
});

/** The board's page and API answers (job data of every partner) are kept out of caches; its static files are not. */
const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!c.req.path.startsWith(`${JOB_BOARD_PATH}/static/`)) c.header('Cache-Control', 'no-store');
});

/**
 * The board's actions (retry, clean, pause, add…) are JSON calls its page makes with the
 * session cookie. SameSite=Lax keeps that cookie off cross-site requests, but not off
 * same-site ones (a sibling subdomain), so a write must also come from our own origin.
 * bull-board's client (axios) sends no custom header we could require instead — only
 * `Accept` — so the browser's own word is the check: `Origin`, when present, must be
 * PUBLIC_URL's, and `Sec-Fetch-Site`, when present, must be `same-origin`.
 */
const refuseCrossOriginWrites = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    const ours = new URL(c.var.deps.config.publicUrl).origin;
    if ((origin !== undefined && origin !== ours) || (site !== undefined && site !== 'same-origin')) {
      throw new AppError('CSRF_FAILED', 'Changes to the job board must come from the job board itself.');
    }
  }
  await next();
});

/**
 * Board actions refused even to owners: adding a job, and rewriting a job's data. Work
 * enters the queues only through `Queues.enqueue`, which validates the payload and gives
 * the job its deterministic id; a job made up here could hold that id with another
 * payload, and the real work would then never be added.
 */
const refusedActions = new Set([
  // Jobs enter only through `enqueue`, with their deterministic ids and valid payloads.
  '/api/queues/:queueName/add',
  '/api/queues/:queueName/:jobId/update-data',
  // The maintenance schedulers (reconciler, lifecycle) and the queues' settings are
  // Mandate's own: removing or editing them would quietly stop the sweeps until a restart.
  '/api/queues/:queueName/job-schedulers/:schedulerId',
  '/api/queues/:queueName/job-schedulers/:schedulerId/remove',
  '/api/queues/:queueName/obliterate',
  '/api/queues/:queueName/concurrency',
  '/api/queues/:queueName/rate-limit',
  '/api/queues/:queueName/default-job-options',
]);

/**
 * bull-board at /admin/queues over every queue, for the owners of a partner (signed in
 * as for the dashboard: anonymous → sign-in page, anyone else → 403).
 *
 * Not read-only: owners can retry, promote, clean, pause and resume from here (not add or
 * edit jobs, nor touch the schedulers or queue settings: {@link refusedActions}). Retrying is safe because every job is idempotent —
 * its payload is only an id, and its handler claims the row in PostgreSQL with a guarded
 * update (`WHERE state = 'pending'` / `'queued'` / `'invited'`…) before acting, so a rerun
 * of work that already finished, failed for good or is running elsewhere does nothing.
 * Likewise, jobs lost to a clean or an empty are found again by the reconciler from
 * PostgreSQL, the source of truth (ADR 1).
 */
export function createJobBoard(deps: Deps): WebApp {
  const pages = new Hono<AppEnv>();
  // All of /admin is the operators' (the dashboard's people): its errors, 404s included,
  // are pages leading back to the dashboard.
  pages.use('/admin/*', pageArea('dashboard'));
  const board = new HonoAdapter(serveStatic).setBasePath(JOB_BOARD_PATH);
  createBullBoard({
    queues: deps.queues.all().map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter: board,
    options: {
      uiConfig: {
        boardTitle: 'Mandate jobs',
        miscLinks: [{ text: 'Back to the dashboard', url: DASHBOARD_PATH }],
      },
      handlerHooks: {
        // Reads stay open; the refused changes are refused whatever their method.
        before: ({ route, method }) =>
          method !== 'get' && refusedActions.has(route)
            ? { allow: false, status: 403, message: 'Mandate manages this itself.' }
            : undefined,
      },
    },
  });
  // Before the board's own routes, so nothing of it (pages, API, static files) is served
  // to anyone else. '/admin/queues/*' matches '/admin/queues' itself too.
  pages.use(
    `${JOB_BOARD_PATH}/*`,
    boardHeaders,
    noStore,
    refuseCrossOriginWrites,
    loadViewer,
    requireStaffSession,
    requireOperatorSession,
    adjustBoardPage,
  );
  // The board's client-side router links to its home with a trailing slash; routes here
  // are strict, so a reload there would otherwise be a 404.
  pages.get(`${JOB_BOARD_PATH}/`, (c) => c.redirect(JOB_BOARD_PATH, 301));
  pages.route(JOB_BOARD_PATH, board.registerPlugin());
  return pages;
}
