import { and, eq, sql } from 'drizzle-orm';
import { AMENDMENT_ANSWER_DAYS } from '../../core/amendment-machine.ts';
import {
  type AmendmentChange,
  type AmendmentRequest,
  type DelegationTerms,
  planAmendment,
} from '../../core/amendment-rules.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { canManageDelegations } from '../../core/partner-permissions.ts';
import { sortRoles } from '../../core/roles.ts';
import type { Tx } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { type Amendment, amendmentLinks, amendments, delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { amendmentLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import { notifyAmendmentProposed, notifyAmendmentReduced } from '../mail/amendment-notifications.ts';
import { clientAdmins, type NotifyContext, notifyContext } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { recordDelegationNotice } from '../webhooks/record.ts';
import { type AmendmentView, toAmendmentView, toStoredTerms } from './amendment-views.ts';
import { type Actor, applyTransition } from './transitions.ts';

export type ProposalResult = AmendmentView & {
  /** In a mixed request, the reducing part, applied at once (the top level is the pending addition). */
  appliedAtOnce?: AmendmentView;
};

/**
 * Applies a change to an active delegation locked by the caller: the same row, a guarded
 * `active → active` transition (`amend`) whose event holds the terms before and after.
 */
export async function amendDelegation(
  tx: Tx,
  p: { delegationId: string; amendmentId: string; actor: Actor; before: DelegationTerms; after: DelegationTerms },
): Promise<boolean> {
  return applyTransition(tx, {
    delegationId: p.delegationId,
    from: 'active',
    event: 'amend',
    actor: p.actor,
    set: { roles: sortRoles(p.after.roles), endsAt: p.after.endsAt, autoExtend: p.after.autoExtend },
    detail: { amendmentId: p.amendmentId, before: toStoredTerms(p.before), after: toStoredTerms(p.after) },
  });
}

interface Proposal {
  tx: Tx;
  ctx: NotifyContext;
  linkSecret: string;
  principal: PartnerPrincipal;
  delegation: { id: string; clientOrgId: string };
  change: AmendmentChange;
  before: DelegationTerms;
  after: DelegationTerms;
  requestId?: string | undefined;
}

const audit = (p: Proposal, a: Amendment, action: 'amendment.reduce' | 'amendment.propose') =>
  recordAudit(p.tx, {
    actorUserId: p.principal.userId,
    partnerId: p.principal.partnerId,
    orgId: p.delegation.clientOrgId,
    action,
    targetType: 'delegation',
    targetId: p.delegation.id,
    outcome: 'succeeded',
    requestId: p.requestId,
    detail: { amendmentId: a.id, before: a.before, after: a.after },
  });

function insertAmendment(p: Proposal, kind: 'reduction' | 'addition') {
  const id = newId('amendment');
  return p.tx
    .insert(amendments)
    .values({
      id,
      delegationId: p.delegation.id,
      partnerId: p.principal.partnerId,
      clientOrgId: p.delegation.clientOrgId,
      kind,
      state: kind === 'reduction' ? 'applied' : 'pending',
      ...p.change,
      before: toStoredTerms(p.before),
      after: toStoredTerms(p.after),
      requestedBy: p.principal.userId,
      requestId: p.requestId,
      ...(kind === 'reduction'
        ? { answeredAt: sql`now()` }
        : { expiresAt: sql`now() + make_interval(days => ${AMENDMENT_ANSWER_DAYS})` }),
    })
    .returning()
    .then((rows) => rows[0] as Amendment);
}

/** The reducing part: recorded `applied`, applied to the delegation, audited, the client's admins emailed. */
async function applyReduction(p: Proposal) {
  const a = await insertAmendment(p, 'reduction');
  const actor = { type: 'partner_user' as const, id: p.principal.userId };
  await amendDelegation(p.tx, {
    delegationId: p.delegation.id,
    amendmentId: a.id,
    actor,
    before: p.before,
    after: p.after,
  });
  await audit(p, a, 'amendment.reduce');
  return { amendment: a, emailIds: await notifyAmendmentReduced(p.tx, p.ctx, a) };
}

/** The adding part: recorded `pending`, audited, and each client admin emailed a personal link. */
async function proposeAddition(p: Proposal) {
  const a = await insertAmendment(p, 'addition');
  await audit(p, a, 'amendment.propose');
  await recordDelegationNotice(
    p.tx,
    p.delegation.id,
    'delegation.amendment_proposed',
    `amendment:${a.id}:proposed`,
    { amendmentId: a.id, before: a.before, after: a.after, expiresAt: a.expiresAt },
    { type: 'partner_user', id: p.principal.userId },
  );
  const admins = await clientAdmins(p.tx, p.delegation.clientOrgId);
  const links = admins.map((admin) => ({ ...admin, token: amendmentLinkToken(p.linkSecret, a.id, admin.userId) }));
  if (links.length > 0) {
    await p.tx
      .insert(amendmentLinks)
      .values(links.map((l) => ({ tokenHash: sha256Hex(l.token), amendmentId: a.id, userId: l.userId })));
  }
  // The tokens' hashes are stored above; the emails get their links when they are sent.
  const emailIds = await notifyAmendmentProposed(p.tx, p.ctx, a, admins);
  return { amendment: a, emailIds };
}

const conflict = (pendingId: string | undefined) =>
  new AppError(
    'CONFLICT',
    "Another amendment of this delegation is waiting for the client's answer; one may wait at a time",
    { details: pendingId ? { pendingAmendmentId: pendingId } : {} },
  );

/**
 * A partner proposes to change an active delegation. By the consent rule, what reduces
 * (removed roles, auto-extend off) applies at once — the partner may give up what it holds
 * at any time — and what adds (roles, days, auto-extend on) waits for a global admin of the
 * client to accept, for AMENDMENT_ANSWER_DAYS. A request doing both becomes two amendments:
 * the reduction applied, the addition pending; the answer is the pending one, with the
 * applied one as `appliedAtOnce`. Nothing is written unless the whole request is valid.
 */
export async function proposeAmendment(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  principal: PartnerPrincipal,
  delegationId: string,
  request: AmendmentRequest,
  requestId?: string,
): Promise<ProposalResult> {
  if (!canManageDelegations(principal)) {
    throw new AppError('NOT_AUTHORIZED', 'Only owners and staff with full access can amend delegations');
  }
  requireId('delegation', delegationId, 'delegation');
  const ctx = notifyContext(deps.config);
  const { result, emailIds } = await deps.db
    .transaction(async (tx) => {
      const [d] = await tx
        .select({
          id: delegations.id,
          state: delegations.state,
          clientOrgId: delegations.clientOrgId,
          roles: delegations.roles,
          endsAt: delegations.endsAt,
          autoExtend: delegations.autoExtend,
          pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)`,
          nowMs: sql<number>`(extract(epoch from now()) * 1000)::float8`,
        })
        .from(delegations)
        .where(and(eq(delegations.id, delegationId), eq(delegations.partnerId, principal.partnerId)))
        .for('update');
      if (!d) throw new AppError('NOT_FOUND', 'No such delegation');
      if (d.state !== 'active' || d.pastEnd || !d.clientOrgId || !d.endsAt) {
        const state = d.state === 'active' ? 'past its end' : d.state;
        throw new AppError('INVALID_TRANSITION', `Only an active delegation can be amended; this one is ${state}`, {
          details: { from: d.state, event: 'amend' },
        });
      }
      const current: DelegationTerms = { roles: sortRoles(d.roles), endsAt: d.endsAt, autoExtend: d.autoExtend };
      const plan = planAmendment(current, request, new Date(Number(d.nowMs)));
      if (Array.isArray(plan)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `The amendment is not valid: ${plan.map((i) => i.message).join('; ')}`,
          {
            issues: plan,
          },
        );
      }
      if (plan.addition) {
        const [pending] = await tx
          .select({ id: amendments.id })
          .from(amendments)
          .where(and(eq(amendments.delegationId, d.id), eq(amendments.state, 'pending')));
        if (pending) throw conflict(pending.id);
      }
      const base = { tx, ctx, linkSecret: deps.config.linkSecret, principal, requestId };
      const delegation = { id: d.id, clientOrgId: d.clientOrgId };
      const reduced = plan.reduction
        ? await applyReduction({ ...base, delegation, ...plan.reduction, before: current })
        : null;
      const added = plan.addition
        ? await proposeAddition({ ...base, delegation, ...plan.addition, before: plan.reduction?.after ?? current })
        : null;
      const main = (added ?? reduced)?.amendment as Amendment;
      return {
        result: {
          ...toAmendmentView(main),
          ...(added && reduced ? { appliedAtOnce: toAmendmentView(reduced.amendment) } : {}),
        },
        emailIds: [...(reduced?.emailIds ?? []), ...(added?.emailIds ?? [])],
      };
    })
    .catch((error: unknown) => {
      // Two additions at once for one delegation: the partial unique index keeps one.
      if (isUniqueViolation(error, 'amendments_one_pending_per_delegation')) throw conflict(undefined);
      throw error;
    });
  await enqueueEmails(deps, emailIds);
  return result;
}
