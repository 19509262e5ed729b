import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { type AuditAction, auditOutcomes } from '../../core/audit-actions.ts';

/**
 * Who did what, acting for which partner, in which organization, with what outcome.
 * Client admins read the rows of their org; partner owners the rows of their partner.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** The user who acted, or null for the system. */
    actorUserId: text(),
    /** The partner the actor acted for (null for a client's own actions). */
    partnerId: text(),
    /** The organization acted in. */
    orgId: text().notNull(),
    /** One of core/audit-actions.ts (older rows may hold a retired action). */
    action: text().$type<AuditAction>().notNull(),
    targetType: text().notNull(),
    targetId: text().notNull(),
    /** `pending` while the operation it tells of runs; then how it ended (core/audit-actions.ts). */
    outcome: text({ enum: auditOutcomes }).notNull(),
    requestId: text(),
    detail: jsonb().$type<Record<string, unknown>>(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_org_idx').on(t.orgId, t.id),
    index('audit_events_partner_idx').on(t.partnerId, t.id),
    // Retention prunes by age (services/maintenance/retention.ts): rows arrive in time order, so a
    // BRIN index finds the old ones at almost no cost to every insert.
    index('audit_events_created_brin').using('brin', t.createdAt),
    // An operation's row is found by its id to record progress and outcome: only while it
    // is pending, so the index holds the operations in flight, not the whole trail.
    // Whether a request took effect, by its id (an abandoned Idempotency-Key claim, ADR 19).
    index('audit_events_request_idx').on(t.requestId).where(sql`${t.requestId} is not null`),
    index('audit_events_pending_idx').on(t.targetId).where(sql`${t.outcome} = 'pending'`),
  ],
);

export type AuditEvent = typeof auditEvents.$inferSelect;
