import { sql } from 'drizzle-orm';
import { nextDelegationState } from '../../core/delegation-machine.ts';
import type { Tx } from '../../db/client.ts';
import type { WriteKind } from '../../lib/commit-group.ts';
import { systemActor } from '../delegations/transitions.ts';

/**
 * The send pipeline's two writes per offer email, each as one statement for every email
 * sharing a commit (lib/commit-group.ts): the mark "in doubt" before the end of data, and
 * the outcome once the server answered. Both are fenced by the claim's attempt number and
 * the `invited` state, like applyTransition's guard: an overtaken attempt writes nothing.
 */
export interface OfferAttempt {
  delegationId: string;
  attempt: number;
}

/** Items as one jsonb parameter, read back with `jsonb_to_recordset`. */
const asJson = (items: unknown[]) => JSON.stringify(items);

/** Marks each attempt's row in doubt; true where the row was still its attempt's, `invited`. */
export const markOffersInDoubt: WriteKind<OfferAttempt, boolean> = {
  name: 'mark offers in doubt',
  async run(tx: Tx, items: OfferAttempt[]) {
    const rows = await tx.execute<{ id: string }>(sql`
      update delegations d set send_in_doubt = true
      from jsonb_to_recordset(${asJson(items)}::jsonb) as v("delegationId" text, attempt int)
      where d.id = v."delegationId" and d.state = 'invited' and d.send_attempts = v.attempt
      returning d.id`);
    const marked = new Set(rows.map((r) => r.id));
    return items.map((item) => marked.has(item.delegationId));
  },
};

export interface OfferSent extends OfferAttempt {
  messageId: string;
  reply: string;
}

const sentFrom = 'invited' as const;
const sentTo = nextDelegationState(sentFrom, 'send_succeeded');

/**
 * Records each email the server accepted: the row `offered` with its Message-ID, and its
 * `send_succeeded` event (as applyTransition writes them). True where the row moved.
 */
export const recordOffersSent: WriteKind<OfferSent, boolean> = {
  name: 'record offers sent',
  async run(tx: Tx, items: OfferSent[]) {
    const rows = await tx.execute<{ delegation_id: string }>(sql`
      with v as (
        select * from jsonb_to_recordset(${asJson(items)}::jsonb)
          as v("delegationId" text, attempt int, "messageId" text, reply text)
      ), updated as (
        update delegations d
        set state = ${sentTo}, offered_at = now(), message_id = v."messageId", smtp_reply = null,
            failure_reason = null, send_lease_until = null, send_in_doubt = false, updated_at = now()
        from v where d.id = v."delegationId" and d.state = ${sentFrom} and d.send_attempts = v.attempt
        returning d.id, v."messageId", v.attempt, v.reply
      )
      insert into delegation_events (delegation_id, event, from_state, to_state, actor_type, actor_id, detail)
      select id, 'send_succeeded', ${sentFrom}, ${sentTo}, ${systemActor.type}, ${systemActor.id},
             jsonb_build_object('messageId', "messageId", 'attempt', attempt, 'reply', reply)
      from updated
      returning delegation_id`);
    const moved = new Set(rows.map((r) => r.delegation_id));
    return items.map((item) => moved.has(item.delegationId));
  },
};
