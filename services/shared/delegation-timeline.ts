import { type SQLWrapper, sql } from 'drizzle-orm';
import type { DelegationEvent, DelegationState } from '../../core/delegation-machine.ts';
import type { ActorType } from '../../db/schema/index.ts';

/** An event as {@link delegationTimelineJson} returns it: `at` is PostgreSQL's text of the timestamp. */
export interface DelegationEventJson {
  event: DelegationEvent;
  fromState: DelegationState | null;
  toState: DelegationState;
  actorType: ActorType;
  actorId: string | null;
  detail: Record<string, unknown> | null;
  at: string;
}

/**
 * A delegation's events as one JSON array, oldest first, for a statement that reads the
 * delegation (`delegationId`: its qualified id column). Plain SQL: aggregated by the
 * database, mapping a joined row per event through drizzle cost more than the JSON.
 */
export const delegationTimelineJson = (delegationId: SQLWrapper) => sql<DelegationEventJson[]>`(
  select coalesce(json_agg(json_build_object(
    'event', e.event, 'fromState', e.from_state, 'toState', e.to_state,
    'actorType', e.actor_type, 'actorId', e.actor_id, 'detail', e.detail, 'at', e.created_at
  ) order by e.id), '[]'::json)
  from delegation_events e where e.delegation_id = ${delegationId})`;
