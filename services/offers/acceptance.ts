import { eq, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { grantRoles, isGrantOf } from '../../core/granted-roles.ts';
import { newId } from '../../core/ids.ts';
import { sortRoles } from '../../core/roles.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { delegationEvents, delegations, offers, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import type { Viewer } from '../accounts/sessions.ts';
import { recordAudit } from '../audit/record.ts';
import { applyTransition, systemActor } from '../delegations/transitions.ts';
import { notifyAccepted, notifyContext, notifyDeclined } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { recordNewDelegationWebhook } from '../webhooks/record.ts';
import { findLiveDelegation, resolveOfferLink } from './offer-links.ts';

export interface AcceptResult {
  delegationId: string;
  /** The organization already had a live delegation with this partner: nothing changed. */
  alreadyLive: boolean;
}

/**
 * A client's global admin accepts an offer link. A personal link moves its delegation
 * to `accepting`; a reusable link creates one directly in `accepting`. Either way the
 * delegation holds the roles granted — the required ones and the optional ones in
 * `keptOptionalRoles` (default none: nothing the client did not tick) — and the
 * process-acceptance job is enqueued after commit. If the organization already has a
 * live delegation with this partner, nothing changes and that one is returned.
 */
export async function acceptOffer(
  deps: Pick<Deps, 'db' | 'queues' | 'logger'>,
  token: string,
  viewer: Viewer,
  requestId?: string,
  keptOptionalRoles: readonly string[] = [],
): Promise<AcceptResult> {
  if (viewer.orgKind !== 'client' || !viewer.isGlobalAdmin) {
    throw new AppError('NOT_AUTHORIZED', 'Only a global administrator of a client organization can accept an offer');
  }
  const result = await deps.db
    .transaction(async (tx): Promise<AcceptResult> => {
      const link = await resolveOfferLink(tx, token, viewer.orgId);
      if (!link) throw new AppError('NOT_FOUND', 'This offer link is not valid');
      const choice = grantRoles({ required: link.roles, optional: link.optionalRoles }, keptOptionalRoles);
      if (Array.isArray(choice)) {
        throw new AppError('VALIDATION_FAILED', 'Only the optional roles of this offer can be left out or kept', {
          issues: choice,
        });
      }
      if (link.facts.liveForViewer) return { delegationId: link.facts.liveForViewer.id, alreadyLive: true };
      // Share-lock the offer: a concurrent revoke waits for this acceptance, or wins before it.
      const [offer] = await tx
        .select({ revokedAt: offers.revokedAt, expired: sql<boolean>`${offers.expiresAt} <= now()` })
        .from(offers)
        .where(eq(offers.id, link.offer.id))
        .for('share');
      if (offer?.revokedAt) throw new AppError('OFFER_REVOKED', 'The partner has withdrawn this offer');
      if (offer?.expired) throw new AppError('OFFER_EXPIRED', 'This offer has expired');

      const actor = { type: 'client_user' as const, id: viewer.userId };
      const accepted = {
        clientOrgId: viewer.orgId,
        acceptedAt: sql`now()`,
        acceptedBy: viewer.userId,
        roles: choice.granted,
      };
      // What the client granted and what it left out, on the timeline and in the audit trail.
      const granted = { roles: choice.granted, leftOut: choice.leftOut };
      let delegationId: string;
      if (link.delegation) {
        const { id, state } = link.delegation;
        if (state !== 'invited' && state !== 'offered') {
          throw new AppError('INVALID_TRANSITION', 'This offer has already been answered');
        }
        const moved = await applyTransition(tx, {
          delegationId: id,
          from: state,
          event: 'accept',
          actor,
          set: accepted,
          detail: granted,
        });
        if (!moved) {
          // Someone answered this link meanwhile — perhaps this same organization, twice.
          const live = await findLiveDelegation(tx, link.offer.partnerId, viewer.orgId);
          if (live) return { delegationId: live.id, alreadyLive: true };
          throw new AppError('CONFLICT', 'The offer changed while you were looking at it; reload the page');
        }
        delegationId = id;
      } else {
        delegationId = newId('delegation');
        await tx.insert(delegations).values({
          id: delegationId,
          partnerId: link.offer.partnerId,
          offerId: link.offer.id,
          state: 'accepting',
          durationDays: link.offer.durationDays,
          autoExtend: link.offer.autoExtend,
          ...accepted,
        });
        const [event] = await tx
          .insert(delegationEvents)
          .values({
            delegationId,
            event: 'accept',
            fromState: null,
            toState: 'accepting',
            actorType: actor.type,
            actorId: actor.id,
            detail: { via: 'reusable link', ...granted },
          })
          .returning({ id: delegationEvents.id });
        if (event) await recordNewDelegationWebhook(tx, event.id, 'delegation.accepted', { event: 'accept', actor });
      }
      await recordAudit(tx, {
        actorUserId: viewer.userId,
        partnerId: link.offer.partnerId,
        orgId: viewer.orgId,
        action: 'delegation.accept',
        targetType: 'delegation',
        targetId: delegationId,
        outcome: 'succeeded',
        requestId,
        detail: granted,
      });
      return { delegationId, alreadyLive: false };
    })
    .catch(async (error: unknown) => {
      // Two acceptances for one organization at once: the partial unique index keeps one.
      if (!isUniqueViolation(error, 'delegations_one_live_per_client')) throw error;
      const link = await resolveOfferLink(deps.db, token, viewer.orgId);
      const live = link ? await findLiveDelegation(deps.db, link.offer.partnerId, viewer.orgId) : null;
      if (!live) throw error;
      return { delegationId: live.id, alreadyLive: true };
    });

  if (!result.alreadyLive) {
    const { delegationId } = result;
    await deps.queues.enqueueAfterCommit('process-acceptance', { delegationId }, { delegationId });
  }
  return result;
}

/**
 * The recipient of a personal link declines it. No sign-in is needed: the link itself
 * is the proof of being the recipient. A reusable link has nothing to decline. The
 * partner's owners are emailed, once per decline.
 */
export async function declineOffer(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  token: string,
  viewer: Viewer | null,
  requestId?: string,
) {
  const { delegationId, emailIds } = await deps.db.transaction(async (tx) => {
    const link = await resolveOfferLink(tx, token);
    if (!link) throw new AppError('NOT_FOUND', 'This offer link is not valid');
    if (!link.delegation)
      throw new AppError('INVALID_TRANSITION', 'There is nothing to decline on a shared offer link');
    const { id, state } = link.delegation;
    if (state !== 'invited' && state !== 'offered')
      throw new AppError('INVALID_TRANSITION', 'This offer has already been answered');
    const declinedBy = viewer ? viewer.email : 'the recipient of the offer email';
    const moved = await applyTransition(tx, {
      delegationId: id,
      from: state,
      event: 'decline',
      actor: { type: 'client_user', id: viewer?.userId ?? null },
      detail: { by: declinedBy },
    });
    if (!moved) throw new AppError('CONFLICT', 'The offer changed while you were looking at it; reload the page');
    await recordAudit(tx, {
      actorUserId: viewer?.userId ?? null,
      partnerId: link.offer.partnerId,
      orgId: viewer?.orgKind === 'client' ? viewer.orgId : link.offer.partnerId,
      action: 'delegation.decline',
      targetType: 'delegation',
      targetId: id,
      outcome: 'succeeded',
      requestId,
    });
    return { delegationId: id, emailIds: await notifyDeclined(tx, notifyContext(deps.config), id, declinedBy) };
  });
  await enqueueEmails(deps, emailIds);
  return { delegationId };
}

export type ProcessAcceptanceOutcome =
  | { outcome: 'activated' }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'skipped'; state: string };

/**
 * Grants an accepted delegation: re-checks the offer (not revoked, not expired when it
 * was accepted) and the admin who accepted (still a global admin of that organization), then activates it
 * until now + duration and tells both sides. Anything that prevents the grant moves it
 * to `failed` with a reason the client sees. Idempotent: only `accepting` is processed.
 */
export async function processAcceptance(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  delegationId: string,
): Promise<ProcessAcceptanceOutcome> {
  const { outcome, emailIds } = await deps.db.transaction(async (tx) => {
    const [d] = await tx.select().from(delegations).where(eq(delegations.id, delegationId)).for('update');
    if (d?.state !== 'accepting') {
      return { outcome: { outcome: 'skipped', state: d?.state ?? 'missing' } as const, emailIds: [] };
    }
    // Judged at the moment of acceptance, not when this job happens to run: an offer
    // accepted in time stays accepted however long the queue took, and revoking an offer
    // withdraws it from new answers without undoing the ones already given.
    const acceptedAt = sql`${(d.acceptedAt ?? new Date()).toISOString()}::timestamptz`;
    const [offer] = await tx
      .select({
        revoked: sql<boolean>`coalesce(${offers.revokedAt} <= ${acceptedAt}, false)`,
        expired: sql<boolean>`${offers.expiresAt} <= ${acceptedAt}`,
        required: offers.roles,
        optional: offers.optionalRoles,
      })
      .from(offers)
      .where(eq(offers.id, d.offerId));
    const [admin] = d.acceptedBy ? await tx.select().from(users).where(eq(users.id, d.acceptedBy)) : [];
    const reason = offer?.revoked
      ? 'The partner withdrew the offer before it could be granted'
      : offer?.expired
        ? 'The offer expired before it could be granted'
        : !admin || admin.orgId !== d.clientOrgId || !admin.isGlobalAdmin
          ? 'The person who accepted is no longer a global administrator of the organization'
          : // The acceptance recorded the grant; only a grant of this offer is ever activated.
            !offer || !isGrantOf({ required: sortRoles(offer.required), optional: sortRoles(offer.optional) }, d.roles)
            ? 'The roles to grant are not those the offer asked for'
            : null;
    const audit = {
      actorUserId: null,
      partnerId: d.partnerId,
      orgId: d.clientOrgId ?? d.partnerId,
      targetType: 'delegation',
      targetId: d.id,
    };

    if (reason || !admin) {
      const why = reason ?? 'unknown';
      await applyTransition(tx, {
        delegationId,
        from: 'accepting',
        event: 'activation_failed',
        actor: systemActor,
        set: { failureReason: why },
        detail: { reason: why },
      });
      await recordAudit(tx, { ...audit, action: 'delegation.activate', outcome: 'failed', detail: { reason: why } });
      return { outcome: { outcome: 'failed', reason: why } as const, emailIds: [] };
    }
    await applyTransition(tx, {
      delegationId,
      from: 'accepting',
      event: 'activate',
      actor: systemActor,
      set: { activatedAt: sql`now()`, endsAt: sql`now() + make_interval(days => ${d.durationDays})` },
    });
    const leftOut = sortRoles((offer?.optional ?? []).filter((role) => !d.roles.includes(role)));
    await recordAudit(tx, {
      ...audit,
      action: 'delegation.activate',
      outcome: 'succeeded',
      detail: { roles: sortRoles(d.roles), leftOut },
    });
    const emailIds = await notifyAccepted(tx, notifyContext(deps.config), delegationId, admin.email, leftOut);
    return { outcome: { outcome: 'activated' } as const, emailIds };
  });
  await enqueueEmails(deps, emailIds);
  return outcome;
}
