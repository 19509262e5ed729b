import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';

/**
 * Where a partner wants its events (core/webhook-events.ts): a URL, the event types it
 * takes, and the secret that signs what is sent there (Standard Webhooks). The secret is
 * sealed under LINK_SECRET (lib/secret-box.ts): it must be read to sign, so it cannot be a
 * hash; a dump alone does not give it. After a rotation the previous secret also signs
 * until `previousSecretUntil`, so receivers can switch without losing a delivery.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    url: text().notNull(),
    description: text().notNull().default(''),
    /** Subscribed event types (core/webhook-events.ts), at least one. */
    events: text().array().notNull(),
    enabled: boolean().notNull().default(true),
    /** Why it was turned off, in words: a `410 Gone`, deliveries failing for good, or a person. */
    disabledReason: text(),
    secretSealed: text().notNull(),
    /** The secrets rotated out within the overlap, sealed, space-separated, newest first. */
    previousSecretSealed: text(),
    previousSecretUntil: timestamp({ withTimezone: true }),
    /** Deliveries in a row that failed for good; a delivered one sets it back to 0. */
    failedInARow: integer().notNull().default(0),
    createdBy: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Every change that may be an event looks up the partner's enabled endpoints.
    index('webhook_endpoints_partner_idx').on(t.partnerId).where(sql`${t.enabled}`),
    index('webhook_endpoints_partner_all_idx').on(t.partnerId, t.id),
  ],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
