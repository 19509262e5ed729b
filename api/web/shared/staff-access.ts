import { count, eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../../core/errors.ts';
import { organizations } from '../../../db/schema/index.ts';
import type { Deps } from '../../../lib/deps.ts';
import { findStaffPrincipal, type PartnerPrincipal } from '../../../services/shared/principals.ts';
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
  // Decided once, here: the job board's gate reads it, and the dashboard's nav lists the
  // board only to those it opens to.
  c.set('principal', { ...principal, opensJobBoard: await opensJobBoard(c.var.deps, principal) });
  c.set('logger', c.var.logger.child({ userId: principal.userId, partnerId: principal.partnerId }));
  await next();
});

/** Owners only (after `requireStaffSession`): staff management and the job board. */
export const requireOwnerSession = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.principal?.isOwner) throw new AppError('NOT_AUTHORIZED', 'Only the owners of the partner can open this.');
  await next();
});

/**
 * Whether the job board opens to `principal`: it shows every partner's jobs, so only to
 * the owners of the partner operating the instance — the one named by
 * OPERATOR_PARTNER_ID, or, when that is unset, the only partner (with several, nobody).
 */
async function opensJobBoard(deps: Pick<Deps, 'db' | 'config'>, principal: PartnerPrincipal): Promise<boolean> {
  if (!principal.isOwner) return false;
  const operator = deps.config.operatorPartnerId;
  if (operator) return principal.partnerId === operator;
  const [row] = await deps.db.select({ n: count() }).from(organizations).where(eq(organizations.kind, 'partner'));
  return row?.n === 1;
}

/** The owners of the partner operating the instance (after `requireStaffSession`, which decides it). */
export const requireOperatorSession = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.var.principal;
  const operator = c.var.deps.config.operatorPartnerId;
  if (principal?.opensJobBoard !== true) {
    throw new AppError(
      'NOT_AUTHORIZED',
      operator || !principal?.isOwner
        ? 'Only the owners of the partner operating this instance can open the job board.'
        : 'The job board shows every partner’s jobs: on an instance with several partners, set OPERATOR_PARTNER_ID to the operating partner.',
    );
  }
  await next();
});
