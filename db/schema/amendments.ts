import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { amendmentKinds, amendmentStates } from '../../core/amendment-machine.ts';
import type { Role } from '../../core/roles.ts';
import { delegations } from './delegations.ts';
import { organizations } from './organizations.ts';
import { rolesInCatalogue } from './role-sets.ts';
import { users } from './users.ts';

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** The terms of a delegation before or after an amendment, as stored (ISO end date). */
export interface StoredTerms {
  roles: Role[];
  endsAt: string;
  autoExtend: boolean;
}

/**
 * A change to the terms of an active delegation (core/amendment-machine.ts). A reduction
 * is recorded `applied`; an addition `pending` until the client answers or it expires.
 * `state` only changes through the guarded writer (services/delegations/amendment-transitions.ts),
 * which writes the audit row in the same transaction.
 */
export const amendments = pgTable(
  'amendments',
  {
    id: text().primaryKey(),
    delegationId: text()
      .notNull()
      .references(() => delegations.id),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    clientOrgId: text()
      .notNull()
      .references(() => organizations.id),
    kind: text({ enum: amendmentKinds }).notNull(),
    state: text({ enum: amendmentStates }).notNull(),
    addRoles: text().array().$type<Role[]>().notNull().default([]),
    removeRoles: text().array().$type<Role[]>().notNull().default([]),
    extendDays: integer(),
    autoExtend: boolean(),
    /** The terms when it was proposed (or applied), and what they become; rewritten when it applies. */
    before: jsonb().$type<StoredTerms>().notNull(),
    after: jsonb().$type<StoredTerms>().notNull(),
    requestedBy: text()
      .notNull()
      .references(() => users.id),
    requestId: text(),
    /** Until when the client may answer (additions only). */
    expiresAt: timestamp({ withTimezone: true }),
    /** When it was accepted, declined, expired or cancelled (for a reduction: when it applied). */
    answeredAt: timestamp({ withTimezone: true }),
    /** The client's global admin who answered; null for the system and for reductions. */
    answeredBy: text().references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('amendments_state_check', sql`${t.state} in (${list(amendmentStates)})`),
    check('amendments_kind_check', sql`${t.kind} in (${list(amendmentKinds)})`),
    // A reduction never waits: it is applied when recorded.
    check('amendments_reduction_applied_check', sql`${t.kind} = 'addition' or ${t.state} = 'applied'`),
    check('amendments_addition_expiry_check', sql`${t.kind} = 'reduction' or ${t.expiresAt} is not null`),
    check('amendments_roles_check', sql`${rolesInCatalogue(t.addRoles)} and ${rolesInCatalogue(t.removeRoles)}`),
    check('amendments_extend_days_check', sql`${t.extendDays} is null or ${t.extendDays} between 1 and 730`),
    // The delegation's amendments, newest first (GET /v1/delegations/{id}/amendments).
    index('amendments_delegation_idx').on(t.delegationId, t.id),
    // At most one addition waits for a client per delegation: a second would email the
    // client again and could contradict the first (the API answers 409 instead).
    uniqueIndex('amendments_one_pending_per_delegation').on(t.delegationId).where(sql`${t.state} = 'pending'`),
    // The lifecycle sweep's expiry of unanswered additions.
    index('amendments_pending_expiry_idx').on(t.expiresAt).where(sql`${t.state} = 'pending'`),
  ],
);

export type Amendment = typeof amendments.$inferSelect;
