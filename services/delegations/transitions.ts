import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { type DelegationEvent, type DelegationState, nextDelegationState } from '../../core/delegation-machine.ts';
import { delegationWebhookEvent } from '../../core/webhook-events.ts';
import type { DbOrTx } from '../../db/client.ts';
import { type ActorType, delegationEvents, delegations } from '../../db/schema/index.ts';
import { delegationWebhookDeliveries } from '../webhooks/record.ts';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const systemActor: Actor = { type: 'system', id: null };

interface Change {
  event: DelegationEvent;
  actor: Actor;
  /** Other columns to change in the same update (timestamps, reasons…). */
  set?: Omit<PgUpdateSetSource<typeof delegations>, 'id' | 'state'>;
  detail?: Record<string, unknown>;
}

/**
 * Moves every delegation matching `where` that is still in `from`, and writes one
 * event row per moved delegation, in a single statement: neither can exist without
 * the other, nor the webhook deliveries that report it. Throws `INVALID_TRANSITION` when the table forbids the event in `from`.
 */
async function moveDelegations(db: DbOrTx, where: SQL, from: DelegationState, change: Change): Promise<string[]> {
  const to = nextDelegationState(from, change.event);
  const webhookType = delegationWebhookEvent[change.event];
  const update = db
    .update(delegations)
    .set({ ...change.set, state: to, updatedAt: sql`now()` })
    .where(and(where, eq(delegations.state, from)));
  // The webhook deliveries, when the event is one, in the same statement (./../webhooks/record.ts):
  // they read the rows as updated.
  const updated = webhookType ? update.returning() : update.returning({ id: delegations.id });
  const hooks = webhookType ? delegationWebhookDeliveries(webhookType, change, from) : sql``;
  const result = await db.execute(sql`
    with updated as (${updated.getSQL()}),
    events as (
      insert into ${delegationEvents} (delegation_id, event, from_state, to_state, actor_type, actor_id, detail)
      select id, ${change.event}, ${from}, ${to}, ${change.actor.type}, ${change.actor.id},
             ${change.detail ? JSON.stringify(change.detail) : null}::jsonb
      from updated
      returning id, delegation_id
    ) ${hooks}
    select delegation_id from events`);
  return result.map((row) => row.delegation_id as string);
}

export interface TransitionInput extends Change {
  delegationId: string;
  /** The state the caller read; the update only happens if the row is still in it. */
  from: DelegationState;
  /** A further condition, e.g. that the send attempt is still the caller's own. */
  guard?: SQL;
}

/**
 * Applies one transition of the state machine with a guarded update (`WHERE state =
 * from`) and its event row. Returns false when the row was no longer in `from`
 * (someone else got there first): the caller decides what that means, usually
 * "already done".
 */
export async function applyTransition(db: DbOrTx, input: TransitionInput): Promise<boolean> {
  const where = input.guard
    ? (and(eq(delegations.id, input.delegationId), input.guard) as SQL)
    : eq(delegations.id, input.delegationId);
  return (await moveDelegations(db, where, input.from, input)).length === 1;
}

export interface BulkTransitionInput extends Change {
  /** Which delegations: combined with each `from` state in turn. */
  where: SQL;
  /** The states to move from; each must allow `event`. */
  from: DelegationState[];
}

/**
 * The set-based form of {@link applyTransition}, for sweeps such as revoking an offer or
 * expiring overdue delegations: one statement per `from` state, so each event row
 * knows the state it left. Returns the ids of the delegations that moved.
 */
export async function applyTransitionToMany(db: DbOrTx, input: BulkTransitionInput): Promise<string[]> {
  const moved: string[] = [];
  for (const from of input.from) moved.push(...(await moveDelegations(db, input.where, from, input)));
  return moved;
}
