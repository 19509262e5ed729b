import { createMiddleware } from 'hono/factory';
import { findViewer } from '../../services/sessions.ts';
import type { AppEnv } from '../env.ts';
import { sessionToken } from './context.ts';

/** Loads who is signed in (from the session cookie) for the HTML pages. */
export const loadViewer = createMiddleware<AppEnv>(async (c, next) => {
  c.set('viewer', await findViewer(c.var.deps.db, sessionToken(c)));
  await next();
});
