import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { operationKindNames } from '../../core/operation-kinds.ts';
import { delegations } from './delegations.ts';

export type { OperationKind } from '../../core/operation-kinds.ts';
export const operationStates = ['queued', 'running', 'succeeded', 'failed', 'rejected'] as const;
export type OperationState = (typeof operationStates)[number];
/**
 * How far an operation's temporary password has gone (provision-user, reset-password), so
 * that a run after a crash continues instead of starting again with another password:
 * prepared (all four fields below but the dates), `emailedAt` once the SMTP server took the
 * email (the sealed password dropped), `setAt` once it is the user's password (the hash
 * dropped). See services/operations/temporary-password.ts.
 */
export interface TemporaryPasswordProgress {
  /** Where the email goes; every copy of it has this Message-ID. */
  sentTo: string;
  messageId: string;
  /** The password went to a global admin of the client: only then may it become an admin's. */
  toClientAdmin: boolean;
  /** The argon2id hash to set, until it is set. */
  hash?: string;
  /** The password, sealed (lib/secret-box.ts), until its email has been taken. */
  sealed?: string;
  /**
   * Set, in its own commit, just before the end of the email's data goes to the SMTP server,
   * and dropped when the email is recorded: while set, the server may have the message
   * without Mandate knowing. Only a run that finds it set counts an interrupted send.
   */
  inDoubt?: boolean;
  /** Sends that were in doubt and recorded no outcome; at the cap the email is not sent again (docs/adr/0005). */
  uncertainSends?: number;
  emailedAt?: string;
  setAt?: string;
}

const kindList = sql.raw(operationKindNames.map((k) => `'${k}'`).join(', '));

/**
 * One delegated admin action in a client organization, requested by a partner user and
 * run by a worker. `input` holds what was asked (never a secret); `result` what was done.
 */
export const operations = pgTable(
  'operations',
  {
    id: text().primaryKey(),
    partnerId: text().notNull(),
    delegationId: text()
      .notNull()
      .references(() => delegations.id),
    clientOrgId: text().notNull(),
    kind: text({ enum: operationKindNames }).notNull(),
    state: text({ enum: operationStates }).notNull().default('queued'),
    requestedBy: text().notNull(),
    input: jsonb().$type<Record<string, unknown>>().notNull(),
    result: jsonb().$type<Record<string, unknown>>(),
    error: text(),
    /**
     * The temporary password's progress (never shown): what lets a re-run send the same
     * email, or none, and set the password once. Null when there is none, and cleared
     * when the operation ends without setting it (a retry starts anew).
     */
    temporaryPassword: jsonb().$type<TemporaryPasswordProgress>(),
    attempts: integer().notNull().default(0),
    /** While in the future, one worker runs this operation; another run must wait. */
    leaseUntil: timestamp({ withTimezone: true }),
    requestId: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp({ withTimezone: true }),
    /** When an operator last retried it after it failed (a domain check's deadline counts from here). */
    retriedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    check('operations_kind_check', sql`${t.kind} in (${kindList})`),
    check('operations_state_check', sql`${t.state} in ('queued', 'running', 'succeeded', 'failed', 'rejected')`),
    index('operations_partner_state_idx').on(t.partnerId, t.state, t.id),
    index('operations_delegation_idx').on(t.delegationId, t.id),
    // The reconciler's sweep of unfinished operations.
    index('operations_unfinished_idx').on(t.updatedAt).where(sql`${t.state} in ('queued', 'running')`),
    // Retention prunes by age (services/maintenance/retention.ts): rows arrive in time order, so a
    // BRIN index finds the old ones at almost no cost to every insert.
    index('operations_created_brin').using('brin', t.createdAt),
  ],
);

export type Operation = typeof operations.$inferSelect;
