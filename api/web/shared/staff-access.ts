import { count, eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../../core/errors.ts';
import { organizations } from '../../../db/schema/index.ts';
import { findStaffPrincipal } from '../../../services/shared/principals.ts';
import type { AppEnv } from '../../env.ts';

/**
 * The dashboard's gate: someone signed in (else to the sign-in page and back) who is staff
 * of a partner (else 403 — a client's user has no business here). Puts the partner
 * principal on `c.var.principal`, the same one the API's bearer tokens give, so the
 * dashboard reads through the same service functions and the same permission checks.
 * Runs after `loadViewer`.
 */
export const requireStaffSession = createMiddleware<AppEnv>(async (c, next) => {
  const viewer = c.var.viewer;
  if (!viewer) {
    const target = new URL(c.req.url);
    return c.redirect(`/sign-in?next=${encodeURIComponent(target.pathname + target.search)}`, 303);
  }
  const principal = viewer.orgKind === 'partner' ? await findStaffPrincipal(c.var.deps.db, viewer.userId) : null;
  if (!principal) throw new AppError('NOT_AUTHORIZED', 'The dashboard is for the staff of a partner.');
  c.set('principal', principal);
  c.set('logger', c.var.logger.child({ userId: principal.userId, partnerId: principal.partnerId }));
  await next();
});

/** Owners only (after `requireStaffSession`): staff management and the job board. */
export const requireOwnerSession = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.principal?.isOwner) throw new AppError('NOT_AUTHORIZED', 'Only the owners of the partner can open this.');
  await next();
});

/**
 * The owners of the partner operating the instance (after `requireStaffSession`): the job
 * board shows every partner's jobs, so on an instance with several partners only the one
 * named by OPERATOR_PARTNER_ID may open it; with a single partner, that partner's owners.
 */
export const requireOperatorSession = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.var.principal;
  const operator = c.var.deps.config.operatorPartnerId;
  let allowed = principal?.isOwner === true;
  if (allowed && operator) allowed = principal.partnerId === operator;
  else if (allowed) {
    const [row] = await c.var.deps.db
      .select({ n: count() })
      .from(organizations)
      .where(eq(organizations.kind, 'partner'));
    allowed = row?.n === 1;
  }
  if (!allowed) {
    throw new AppError(
      'NOT_AUTHORIZED',
      operator || !principal?.isOwner
        ? 'Only the owners of the partner operating this instance can open the job board.'
        : 'The job board shows every partner’s jobs: on an instance with several partners, set OPERATOR_PARTNER_ID to the operating partner.',
    );
  }
  await next();
});
