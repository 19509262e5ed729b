import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { WebhookEnvelope } from '../../core/webhook-events.ts';
import { webhookEndpoints } from './webhook-endpoints.ts';

/**
 * The webhook outbox: one row per (event, endpoint), written in the same transaction as
 * the change the event reports, then delivered by the `deliver-webhook` job. The payload
 * is fixed when the event happens; every try signs it afresh. `eventId` is the
 * `webhook-id` header: the same on every try and on a redelivery, so a receiver can drop
 * duplicates.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text().primaryKey(),
    endpointId: text()
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    partnerId: text().notNull(),
    eventId: text().notNull(),
    eventType: text().notNull(),
    payload: jsonb().$type<WebhookEnvelope>().notNull(),
    state: text({ enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** While in the future, one worker holds the try; another run must not send it meanwhile. */
    leaseUntil: timestamp({ withTimezone: true }),
    /** Handed to the queue (by a worker woken by the commit, or the reconciler). */
    dispatched: boolean().notNull().default(false),
    lastStatus: integer(),
    lastError: text(),
    /** The first 2 KiB of the receiver's last answer. */
    responseExcerpt: text(),
    /** The delivery this one sends again (a partner asked to redeliver). */
    redeliveryOf: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp({ withTimezone: true }),
    deliveredAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.createdAt),
    index('webhook_deliveries_pending_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    index('webhook_deliveries_undispatched_idx')
      .on(t.createdAt)
      .where(sql`${t.state} = 'pending' and not ${t.dispatched}`),
    index('webhook_deliveries_created_brin').using('brin', t.createdAt),
    check('webhook_deliveries_state_check', sql`${t.state} in ('pending', 'delivered', 'failed')`),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
