import { and, eq, type SQL, sql } from 'drizzle-orm';
import { canTransition } from '../../core/delegation-machine.ts';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { canManageDelegations } from '../../core/partner-permissions.ts';
import { delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import type { Viewer } from '../accounts/sessions.ts';
import { recordAudit } from '../audit/record.ts';
import { notifyContext, notifyTerminated } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { type Actor, applyTransition } from './transitions.ts';

interface Termination {
  delegationId: string;
  /** Limits the delegation to the caller's side (its partner, or its client organization). */
  scope: SQL;
  actor: Actor;
  /** Who ended it, in the words of the emails: "Acme IT (owner@acme.example)". */
  endedBy: string;
  partnerIdOfActor: string | null;
  requestId?: string | undefined;
  /** How it was ended, when not from a signed-in page or the API ("end link"). */
  via?: string | undefined;
}

/**
 * Ends a delegation (invited, offered, accepting or active → terminated), records who
 * did, and tells both sides. From the commit on, no delegated action may run: workers
 * re-check the state before acting. Ending an already terminated delegation is a no-op.
 */
async function terminate(deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>, t: Termination) {
  requireId('delegation', t.delegationId, 'delegation');
  const { emailIds, state } = await deps.db.transaction(async (tx) => {
    const [d] = await tx
      .select()
      .from(delegations)
      .where(and(eq(delegations.id, t.delegationId), t.scope))
      .for('update');
    if (!d) throw new AppError('NOT_FOUND', 'No such delegation');
    if (d.state === 'terminated') return { emailIds: [], state: d.state };
    if (!canTransition(d.state, 'terminate')) {
      throw new AppError('INVALID_TRANSITION', `A delegation that is ${d.state} cannot be ended`, {
        details: { from: d.state, event: 'terminate' },
      });
    }
    await applyTransition(tx, {
      delegationId: d.id,
      from: d.state,
      event: 'terminate',
      actor: t.actor,
      set: { endedAt: sql`now()`, endedBy: t.actor.id },
      detail: { endedBy: t.endedBy, ...(t.via ? { via: t.via } : {}) },
    });
    await recordAudit(tx, {
      actorUserId: t.actor.id,
      partnerId: t.partnerIdOfActor ?? d.partnerId,
      orgId: d.clientOrgId ?? d.partnerId,
      action: 'delegation.terminate',
      targetType: 'delegation',
      targetId: d.id,
      outcome: 'succeeded',
      requestId: t.requestId,
      detail: { from: d.state, by: t.actor.type, ...(t.via ? { via: t.via } : {}) },
    });
    return { emailIds: await notifyTerminated(tx, notifyContext(deps.config), d.id, t.endedBy), state: 'terminated' };
  });
  await enqueueEmails(deps, emailIds);
  return { delegationId: t.delegationId, state };
}

export function terminateByPartner(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  principal: PartnerPrincipal,
  delegationId: string,
  requestId?: string,
) {
  if (!canManageDelegations(principal)) {
    throw new AppError('NOT_AUTHORIZED', 'Only owners and staff with full access can end delegations');
  }
  return terminate(deps, {
    delegationId,
    scope: eq(delegations.partnerId, principal.partnerId),
    actor: { type: 'partner_user', id: principal.userId },
    endedBy: `the partner (${principal.email})`,
    partnerIdOfActor: principal.partnerId,
    requestId,
  });
}

export function terminateByClient(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  viewer: Viewer,
  delegationId: string,
  requestId?: string,
) {
  if (viewer.orgKind !== 'client' || !viewer.isGlobalAdmin) {
    throw new AppError('NOT_AUTHORIZED', 'Only a global administrator of the organization can end its delegations');
  }
  return terminate(deps, {
    delegationId,
    scope: eq(delegations.clientOrgId, viewer.orgId),
    actor: { type: 'client_user', id: viewer.userId },
    endedBy: `${viewer.orgName} (${viewer.email})`,
    partnerIdOfActor: null,
    requestId,
  });
}

/**
 * The client ends a delegation with the signed link of an email (services/mail/end-links.ts),
 * without signing in: the key is the proof of holding an email sent to the client's side.
 * The caller has checked the key (resolveEndLink) and passes what it resolved.
 */
export function terminateByEndLink(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  link: { delegationId: string; clientName: string },
  requestId?: string,
) {
  return terminate(deps, {
    delegationId: link.delegationId,
    scope: eq(delegations.id, link.delegationId),
    actor: { type: 'client_user', id: null },
    endedBy: `${link.clientName} (with the end link of a Mandate email)`,
    partnerIdOfActor: null,
    requestId,
    via: 'end link',
  });
}
