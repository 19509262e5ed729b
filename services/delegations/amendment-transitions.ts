import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { type AmendmentEvent, type AmendmentState, nextAmendmentState } from '../../core/amendment-machine.ts';
import type { AuditAction } from '../../core/audit-actions.ts';
import type { DbOrTx } from '../../db/client.ts';
import { type Amendment, amendments, auditEvents } from '../../db/schema/index.ts';
import { recordDelegationNotice } from '../webhooks/record.ts';
import type { Actor } from './transitions.ts';

/** The audit action each event is recorded as: one per event, so the trail says what happened. */
const auditActionOf: Record<AmendmentEvent, AuditAction> = {
  accept: 'amendment.accept',
  decline: 'amendment.decline',
  expire: 'amendment.expire',
  cancel: 'amendment.cancel',
};

export interface AmendmentChangeInput {
  event: AmendmentEvent;
  actor: Actor;
  /** Other columns to change in the same update (the answer, the terms as applied…). */
  set?: Omit<PgUpdateSetSource<typeof amendments>, 'id' | 'state'>;
  requestId?: string | undefined;
  /** Extra detail for the audit rows, beside the amendment's before and after. */
  detail?: Record<string, unknown>;
}

/**
 * The one writer of amendment states: moves every amendment matching `where` that is still
 * in `from` (a guarded `UPDATE … WHERE state = from`), and writes one audit row per moved
 * amendment — in the client organization, for the partner, with the terms before and after
 * — in one transaction (within the caller's, if any). Returns the moved rows.
 * Throws INVALID_TRANSITION when the table forbids the event in `from`.
 */
export async function moveAmendments(
  db: DbOrTx,
  where: SQL,
  from: AmendmentState,
  change: AmendmentChangeInput,
): Promise<Amendment[]> {
  const to = nextAmendmentState(from, change.event);
  const write = async (tx: DbOrTx) => {
    const moved = await tx
      .update(amendments)
      .set({ ...change.set, state: to, updatedAt: sql`now()` })
      .where(and(where, eq(amendments.state, from)))
      .returning();
    if (moved.length > 0) {
      await tx.insert(auditEvents).values(
        moved.map((a) => ({
          actorUserId: change.actor.id,
          partnerId: a.partnerId,
          orgId: a.clientOrgId,
          action: auditActionOf[change.event],
          targetType: 'delegation',
          targetId: a.delegationId,
          outcome: 'succeeded' as const,
          requestId: change.requestId,
          detail: { amendmentId: a.id, from, to, before: a.before, after: a.after, ...change.detail },
        })),
      );
      // A refusal is the partner's to hear about (an acceptance is, as the delegation's `amend`).
      if (change.event === 'decline') {
        for (const a of moved) {
          await recordDelegationNotice(
            tx,
            a.delegationId,
            'delegation.amendment_declined',
            `amendment:${a.id}:declined`,
            { amendmentId: a.id, before: a.before, after: a.after },
            change.actor,
          );
        }
      }
    }
    return moved;
  };
  // Inside the caller's transaction this is a savepoint: both rows, or neither.
  return db.transaction(write);
}

/**
 * One amendment's transition ({@link moveAmendments} for a single id). Returns the row as
 * moved, or null when it was no longer in `from`: someone else answered first.
 */
export async function applyAmendmentTransition(
  db: DbOrTx,
  input: AmendmentChangeInput & { amendmentId: string; from: AmendmentState },
): Promise<Amendment | null> {
  const [moved] = await moveAmendments(db, eq(amendments.id, input.amendmentId), input.from, input);
  return moved ?? null;
}
