import { sql } from 'drizzle-orm';
import { bigint, boolean, check, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { keptBounceKinds } from '../../core/delivery-status.ts';
import { delegations } from './delegations.ts';

const kindList = sql.raw(keptBounceKinds.map((k) => `'${k}'`).join(', '));

/**
 * Every delivery status notification received for a delegation's offer email, kept whether
 * it changed the delegation or not: a permanent one fails a delegation still waiting for its
 * answer (the `bounced` event), a delay or a report arriving after the client answered is
 * only kept. At most 20 per delegation, their text cleaned and cut, pruned after
 * BOUNCE_REPORT_RETENTION_DAYS. services/campaigns/bounces.ts writes it.
 */
export const delegationBounces = pgTable(
  'delegation_bounces',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    delegationId: text()
      .notNull()
      .references(() => delegations.id),
    /**
     * `message-id:` and the SHA-256 of the report's Message-ID, or `sha256:` and the SHA-256
     * of the whole report when it has none: a fixed length whatever the sender wrote.
     */
    reportKey: text().notNull(),
    kind: text({ enum: keptBounceKinds }).notNull(),
    /** The enhanced status code, e.g. 5.1.1. */
    status: text().notNull(),
    action: text(),
    /** The reply of the server that refused the message (Diagnostic-Code). */
    diagnostic: text(),
    reportingMta: text(),
    remoteMta: text(),
    /** Whether this report moved the delegation to `failed`. */
    failedDelegation: boolean().notNull().default(false),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('delegation_bounces_kind_check', sql`${t.kind} in (${kindList})`),
    // Once only: a report delivered again (the relay retried after a lost reply) is the same row.
    uniqueIndex('delegation_bounces_report_unique').on(t.delegationId, t.reportKey),
  ],
);

export type DelegationBounce = typeof delegationBounces.$inferSelect;
