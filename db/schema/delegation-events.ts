import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { DelegationEvent, DelegationState } from '../../core/delegation-machine.ts';
import { delegations } from './delegations.ts';

/** Who caused an event: the system (a job), a partner user, or a client user. */
export type ActorType = 'system' | 'partner_user' | 'client_user';

/**
 * Every transition of a delegation, written in the same statement as the state change.
 * Both sides read this as the delegation's timeline. `fromState` is null only for a
 * delegation created directly in a later state (an acceptance through a reusable link).
 */
export const delegationEvents = pgTable(
  'delegation_events',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    delegationId: text()
      .notNull()
      .references(() => delegations.id),
    event: text().$type<DelegationEvent>().notNull(),
    fromState: text().$type<DelegationState>(),
    toState: text().$type<DelegationState>().notNull(),
    actorType: text().$type<ActorType>().notNull(),
    actorId: text(),
    detail: jsonb().$type<Record<string, unknown>>(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('delegation_events_delegation_idx').on(t.delegationId, t.id),
    // Retention prunes by age (services/maintenance/retention.ts): rows arrive in time order, so a
    // BRIN index finds the old ones at almost no cost to every insert.
    index('delegation_events_created_brin').using('brin', t.createdAt),
  ],
);

export type DelegationEventRow = typeof delegationEvents.$inferSelect;
