import { sql } from 'drizzle-orm';
import { boolean, check, foreignKey, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { delegationStates } from '../../core/delegation-machine.ts';
import { campaigns } from './campaigns.ts';
import { offers } from './offers.ts';
import { organizations } from './organizations.ts';
import { rolesInCatalogue } from './role-sets.ts';

const stateList = sql.raw(delegationStates.map((s) => `'${s}'`).join(', '));

/**
 * One partner ↔ one client relationship, from the invitation to its end. `state` only
 * changes through a guarded update that also writes a delegation_events row
 * (services/delegation-transitions.ts).
 */
export const delegations = pgTable(
  'delegations',
  {
    id: text().primaryKey(),
    partnerId: text().notNull(),
    offerId: text().notNull(),
    /** Null for a delegation that arrived through the reusable offer link. */
    campaignId: text().references(() => campaigns.id),
    /** Known once a client organization accepts. */
    clientOrgId: text().references(() => organizations.id),
    recipientEmail: text(),
    recipientName: text(),
    recipientCompany: text(),
    state: text({ enum: delegationStates }).notNull(),
    /** Terms copied from the offer when the delegation was created. */
    roles: text().array().notNull(),
    durationDays: integer().notNull(),
    autoExtend: boolean().notNull(),
    /**
     * SHA-256 of the per-recipient link token (campaign delegations only). Written with the
     * row at the campaign's insert (before, by the worker that sent the email), so the
     * send's claim touches no indexed column.
     */
    tokenHash: text(),
    /** The campaign's chunk (`send_chunks`) this recipient is sent in; null before chunking. */
    sendChunk: integer(),
    sendAttempts: integer().notNull().default(0),
    /**
     * `send_attempts` when the recipient was last sent again after failing (`retry_send`):
     * MAIL_ATTEMPTS counts the attempts since. `send_attempts` itself only grows — it fences
     * each attempt's outcome.
     */
    sendAttemptsBase: integer().notNull().default(0),
    /**
     * While set and in the future, one worker holds the send of this delegation's email;
     * another run of the same job must not send it too.
     */
    sendLeaseUntil: timestamp({ withTimezone: true }),
    /**
     * The process (`worker_processes.id`) holding the send lease: once it stops beating, the
     * lease has ended, whatever `send_lease_until` says. Null for leases taken before holders were named.
     */
    sendLeaseHolder: text(),
    /**
     * Set, in its own commit, just before the end of this email's data goes to the SMTP
     * server, and cleared with the outcome: while set, the server may have the message
     * without Mandate knowing. Only a claim that finds it set counts an interrupted send —
     * a lease alone says the row was claimed, not that anything reached the server. At most
     * MAIL_UNCONFIRMED_MAX rows of a process carry it at once (lib/mailer.ts).
     */
    sendInDoubt: boolean().notNull().default(false),
    /**
     * Claims of this email that ended without an outcome (the lease was still set when the
     * next claim came: its worker died, or stalled past the lease). A recipient interrupted
     * twice is sent alone, after the others of its chunk; three times, it fails — an email
     * that stops every worker sending it must not stop its campaign (docs/adr/0027).
     */
    sendInterruptions: integer().notNull().default(0),
    /**
     * Sends that may or may not have reached the SMTP server (the attempt was in doubt and
     * no outcome came). Offer emails are resent after at most one such send; see docs/adr/0005.
     */
    uncertainSends: integer().notNull().default(0),
    messageId: text(),
    /** Last reply of the SMTP server when sending failed (kept for the operator). */
    smtpReply: text(),
    failureReason: text(),
    offeredAt: timestamp({ withTimezone: true }),
    acceptedAt: timestamp({ withTimezone: true }),
    acceptedBy: text(),
    activatedAt: timestamp({ withTimezone: true }),
    endsAt: timestamp({ withTimezone: true }),
    endedAt: timestamp({ withTimezone: true }),
    endedBy: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One composite key checks both the offer and that it is this partner's: foreign-key
    // checks run per inserted row, and campaigns insert up to 100,000 rows at once.
    foreignKey({ columns: [t.offerId, t.partnerId], foreignColumns: [offers.id, offers.partnerId] }),
    check('delegations_state_check', sql`${t.state} in (${stateList})`),
    check('delegations_roles_check', rolesInCatalogue(t.roles)),
    uniqueIndex('delegations_token_hash_unique').on(t.tokenHash),
    // Keyset pagination of a partner's delegations, optionally by state.
    index('delegations_partner_idx').on(t.partnerId, t.id),
    index('delegations_partner_state_idx').on(t.partnerId, t.state, t.id),
    // Revoking an offer sweeps its waiting delegations.
    index('delegations_offer_state_idx').on(t.offerId, t.state),
    // Campaign progress counts and per-state recipient pages.
    index('delegations_campaign_state_idx').on(t.campaignId, t.state, t.id),
    // The lifecycle scheduler's sweeps: ends of active delegations, unanswered offers.
    index('delegations_active_ends_idx').on(t.endsAt).where(sql`${t.state} = 'active'`),
    index('delegations_offered_at_idx').on(t.offeredAt).where(sql`${t.state} = 'offered'`),
    // A chunk's claim: its recipients still waiting.
    index('delegations_send_chunk_idx').on(t.campaignId, t.sendChunk, t.id).where(sql`${t.state} = 'invited'`),
    // The reconciler's sweep of recipients still waiting for their email.
    index('delegations_invited_updated_idx').on(t.updatedAt).where(sql`${t.state} = 'invited'`),
    index('delegations_accepting_idx').on(t.acceptedAt).where(sql`${t.state} = 'accepting'`),
    // The dashboard's charts: sends per minute and acceptances per day of one partner.
    index('delegations_partner_offered_idx').on(t.partnerId, t.offeredAt),
    index('delegations_partner_accepted_idx').on(t.partnerId, t.acceptedAt),
    // The client's own page: delegations to its organization.
    index('delegations_client_idx').on(t.clientOrgId),
    // One client has at most one live delegation per partner.
    uniqueIndex('delegations_one_live_per_client')
      .on(t.partnerId, t.clientOrgId)
      .where(sql`${t.state} in ('accepting', 'active')`),
  ],
);

export type Delegation = typeof delegations.$inferSelect;
