import { type SQL, sql } from 'drizzle-orm';
import { nextDelegationState } from '../../core/delegation-machine.ts';
import type { WriteKind } from '../../lib/commit-group.ts';
import { systemActor } from '../delegations/transitions.ts';

/**
 * The send pipeline's two writes per offer email, for every email sharing a commit in one
 * statement (lib/commit-group.ts): the mark "in doubt" before the end of data, and the
 * outcome once the server answered. Both are fenced by the claim's attempt number and the
 * `invited` state, like applyTransition's guard: an overtaken attempt writes nothing.
 */
export interface OfferAttempt {
  delegationId: string;
  attempt: number;
}

export interface OfferSent extends OfferAttempt {
  messageId: string;
  reply: string;
}

/**
 * A write's key is its row and attempt: two attempts of one row may share a commit (an
 * overtaken run's and the newer one's), and only the one whose guard held is written.
 */
const attemptKey = (item: OfferAttempt) => `${item.delegationId}:${item.attempt}`;

/**
 * Items as a VALUES list: the planner then knows how many rows come, and looks each one up
 * by its primary key. (A jsonb set is estimated at 100 rows; with the statistics of a table
 * just filled by a campaign, that made a hash join over every invited row: ~10 ms a commit.)
 */
const values = <I>(items: I[], row: (item: I) => SQL) =>
  sql.join(
    items.map((i) => sql`(${row(i)})`),
    sql`, `,
  );

/** Marks each attempt's row in doubt; written where the row was still its attempt's, `invited`. */
export const markOffersInDoubt: WriteKind<OfferAttempt> = {
  name: 'mark offers in doubt',
  key: attemptKey,
  ctes: (items, name) => sql`${name('done')} as (
    update delegations d set send_in_doubt = true
    from (values ${values(items, (i) => sql`${i.delegationId}::text, ${i.attempt}::int`)}) as v(id, attempt)
    where d.id = v.id and d.state = 'invited' and d.send_attempts = v.attempt
    returning d.id || ':' || v.attempt as key)`,
};

const sentFrom = 'invited' as const;
const sentTo = nextDelegationState(sentFrom, 'send_succeeded');

/**
 * Records each email the server accepted: the row `offered` with its Message-ID, and its
 * `send_succeeded` event (as applyTransition writes them); written where the row moved.
 */
export const recordOffersSent: WriteKind<OfferSent> = {
  name: 'record offers sent',
  key: attemptKey,
  ctes: (items, name) => sql`${name('moved')} as (
    update delegations d
    set state = ${sentTo}, offered_at = now(), message_id = v.message_id, smtp_reply = null,
        failure_reason = null, send_lease_until = null, send_in_doubt = false, updated_at = now()
    from (values ${values(items, (i) => sql`${i.delegationId}::text, ${i.attempt}::int, ${i.messageId}::text, ${i.reply}::text`)})
      as v(id, attempt, message_id, reply)
    where d.id = v.id and d.state = ${sentFrom} and d.send_attempts = v.attempt
    returning d.id, v.message_id, v.attempt, v.reply
  ), ${name('done')} as (
    insert into delegation_events (delegation_id, event, from_state, to_state, actor_type, actor_id, detail)
    select id, 'send_succeeded', ${sentFrom}, ${sentTo}, ${systemActor.type}, ${systemActor.id},
           jsonb_build_object('messageId', message_id, 'attempt', attempt, 'reply', reply)
    from ${name('moved')}
    returning delegation_id || ':' || (detail->>'attempt') as key)`,
};
