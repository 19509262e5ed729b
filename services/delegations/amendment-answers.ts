import { eq, sql } from 'drizzle-orm';
import type { AmendmentLinkFacts } from '../../core/amendment-link-view.ts';
import type { AmendmentState } from '../../core/amendment-machine.ts';
import { applyChange, type DelegationTerms, termsIssues } from '../../core/amendment-rules.ts';
import { AppError } from '../../core/errors.ts';
import { sortRoles } from '../../core/roles.ts';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { type Amendment, amendmentLinks, amendments, delegations, organizations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import type { Viewer } from '../accounts/sessions.ts';
import { changeOf, notifyAmendmentAnswered } from '../mail/amendment-notifications.ts';
import { notifyContext } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { applyAmendmentTransition } from './amendment-transitions.ts';
import { toStoredTerms } from './amendment-views.ts';
import { amendDelegation } from './amendments.ts';

export interface ResolvedAmendmentLink {
  amendment: Amendment;
  facts: AmendmentLinkFacts;
  partnerName: string;
  clientName: string;
  /** Before → after as an answer now would make them (pending), or as recorded (answered). */
  before: DelegationTerms;
  after: DelegationTerms;
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;
const fromStored = (t: Amendment['before']): DelegationTerms => ({
  roles: sortRoles(t.roles),
  endsAt: new Date(t.endsAt),
  autoExtend: t.autoExtend,
});

/** What an amendment link points at, by the SHA-256 of its token; null for anything unknown. */
export async function resolveAmendmentLink(db: DbOrTx, token: string): Promise<ResolvedAmendmentLink | null> {
  if (!tokenShape.test(token)) return null;
  const [row] = await db
    .select({
      amendment: amendments,
      pastExpiry: sql<boolean>`coalesce(${amendments.expiresAt} <= now(), false)`,
      delegation: { state: delegations.state, roles: delegations.roles, endsAt: delegations.endsAt },
      autoExtend: delegations.autoExtend,
      pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)`,
      partnerName: sql<string>`(select name from ${organizations} where id = ${amendments.partnerId})`,
      clientName: sql<string>`(select name from ${organizations} where id = ${amendments.clientOrgId})`,
    })
    .from(amendmentLinks)
    .innerJoin(amendments, eq(amendments.id, amendmentLinks.amendmentId))
    .innerJoin(delegations, eq(delegations.id, amendments.delegationId))
    .where(eq(amendmentLinks.tokenHash, sha256Hex(token)));
  if (!row) return null;
  const a = row.amendment;
  const live = a.state === 'pending' && row.delegation.endsAt !== null;
  const before = live
    ? { roles: sortRoles(row.delegation.roles), endsAt: row.delegation.endsAt as Date, autoExtend: row.autoExtend }
    : fromStored(a.before);
  return {
    amendment: a,
    facts: {
      state: a.state,
      pastExpiry: row.pastExpiry,
      clientOrgId: a.clientOrgId,
      delegation: { state: row.delegation.state, pastEnd: row.pastEnd },
    },
    partnerName: row.partnerName,
    clientName: row.clientName,
    before,
    after: live ? applyChange(before, changeOf(a)) : fromStored(a.after),
  };
}

const answeredWords: Record<Exclude<AmendmentState, 'pending'>, string> = {
  applied: 'This change was already accepted and is in effect; nothing was changed again.',
  declined: 'This change was already declined; nothing was changed.',
  expired: 'This request expired without an answer; nothing was changed.',
  cancelled: 'The delegation ended before this request was answered; there is nothing left to change.',
};

// Only the lifecycle sweep can get there first once the delegation is locked.
const meanwhile = 'This request expired or lapsed while you were looking at it; nothing was changed.';

/**
 * The pending amendment behind `token`, checked for `viewer` — a global admin of its client
 * organization — with its delegation locked FOR UPDATE (delegation first, then amendment:
 * the order every writer of both takes), so two answers cannot both apply.
 */
async function lockForAnswer(tx: Tx, token: string, viewer: Viewer) {
  if (viewer.orgKind !== 'client' || !viewer.isGlobalAdmin) {
    throw new AppError('NOT_AUTHORIZED', 'Only a global administrator of the organization can answer this request');
  }
  const link = await resolveAmendmentLink(tx, token);
  if (!link) throw new AppError('NOT_FOUND', 'This link is not valid. Check that you copied all of it.');
  if (link.amendment.clientOrgId !== viewer.orgId) {
    throw new AppError('NOT_AUTHORIZED', 'This request is for the global administrators of another organization');
  }
  const [d] = await tx
    .select({
      state: delegations.state,
      roles: delegations.roles,
      endsAt: delegations.endsAt,
      autoExtend: delegations.autoExtend,
      pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)`,
      nowMs: sql<number>`(extract(epoch from now()) * 1000)::float8`,
    })
    .from(delegations)
    .where(eq(delegations.id, link.amendment.delegationId))
    .for('update');
  const [a] = await tx
    .select({ state: amendments.state, pastExpiry: sql<boolean>`coalesce(${amendments.expiresAt} <= now(), false)` })
    .from(amendments)
    .where(eq(amendments.id, link.amendment.id));
  if (!d || !a) throw new AppError('NOT_FOUND', 'This link is not valid');
  if (a.state !== 'pending') throw new AppError('INVALID_TRANSITION', answeredWords[a.state]);
  if (d.state !== 'active' || d.pastEnd || !d.endsAt) {
    throw new AppError('OFFER_LINK_GONE', 'The delegation has ended: there is nothing left to change.');
  }
  if (a.pastExpiry) throw new AppError('OFFER_LINK_GONE', answeredWords.expired);
  const current: DelegationTerms = { roles: sortRoles(d.roles), endsAt: d.endsAt, autoExtend: d.autoExtend };
  return { link, current, now: new Date(Number(d.nowMs)) };
}

export interface AnswerResult {
  partnerName: string;
  clientName: string;
  /** The terms before the answer. */
  before: DelegationTerms;
  /** The terms as applied (accepted), or as asked for and refused (declined). */
  after: DelegationTerms;
}

/**
 * A global admin of the client accepts a pending amendment: it applies to the same
 * delegation (`amend`, with before and after in its event), the amendment becomes
 * `applied` with the terms as applied, and both sides are emailed — all in one
 * transaction. A second answer finds it answered (INVALID_TRANSITION) and changes nothing.
 */
export async function acceptAmendment(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  token: string,
  viewer: Viewer,
  requestId?: string,
): Promise<AnswerResult> {
  const ctx = notifyContext(deps.config);
  const { result, emailIds } = await deps.db.transaction(async (tx) => {
    const { link, current, now } = await lockForAnswer(tx, token, viewer);
    const after = applyChange(current, changeOf(link.amendment));
    const issues = termsIssues(after, now, { autoExtend: 'autoExtend' });
    if (issues.length > 0) {
      throw new AppError(
        'CONFLICT',
        `This change can no longer be applied as asked (${issues.map((i) => i.message).join('; ')}); nothing was changed.`,
      );
    }
    const actor = { type: 'client_user' as const, id: viewer.userId };
    const moved = await applyAmendmentTransition(tx, {
      amendmentId: link.amendment.id,
      from: 'pending',
      event: 'accept',
      actor,
      requestId,
      set: {
        before: toStoredTerms(current),
        after: toStoredTerms(after),
        answeredAt: sql`now()`,
        answeredBy: viewer.userId,
      },
    });
    if (!moved) throw new AppError('INVALID_TRANSITION', meanwhile);
    const amended = await amendDelegation(tx, {
      delegationId: moved.delegationId,
      amendmentId: moved.id,
      actor,
      before: current,
      after,
    });
    if (!amended) throw new AppError('CONFLICT', 'The delegation changed meanwhile; reload the page');
    return {
      result: { partnerName: link.partnerName, clientName: link.clientName, before: current, after },
      emailIds: await notifyAmendmentAnswered(tx, ctx, moved, 'accepted', viewer.email),
    };
  });
  await enqueueEmails(deps, emailIds);
  return result;
}

/** A global admin of the client declines a pending amendment: nothing else changes; both sides are emailed. */
export async function declineAmendment(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  token: string,
  viewer: Viewer,
  requestId?: string,
): Promise<AnswerResult> {
  const ctx = notifyContext(deps.config);
  const { result, emailIds } = await deps.db.transaction(async (tx) => {
    const { link, current } = await lockForAnswer(tx, token, viewer);
    const moved = await applyAmendmentTransition(tx, {
      amendmentId: link.amendment.id,
      from: 'pending',
      event: 'decline',
      actor: { type: 'client_user', id: viewer.userId },
      requestId,
      set: { answeredAt: sql`now()`, answeredBy: viewer.userId },
    });
    if (!moved) throw new AppError('INVALID_TRANSITION', meanwhile);
    return {
      // The terms kept, and those asked for and refused.
      result: {
        partnerName: link.partnerName,
        clientName: link.clientName,
        before: current,
        after: applyChange(current, changeOf(link.amendment)),
      },
      emailIds: await notifyAmendmentAnswered(tx, ctx, moved, 'declined', viewer.email),
    };
  });
  await enqueueEmails(deps, emailIds);
  return result;
}
