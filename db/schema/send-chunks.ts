import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns.ts';
import { organizations } from './organizations.ts';

/**
 * A campaign's recipients in chunks of CAMPAIGN_CHUNK_SIZE, numbered at the campaign's
 * insert (`delegations.send_chunk`). A worker takes one chunk at a time, with one claim
 * statement per group of its recipients (services/campaigns/send-chunk.ts), and holds it
 * under a lease naming the process (`worker_processes`): when that process stops beating,
 * the chunk is free at once. `done_at` is set when none of its recipients waits any more.
 * The `send-chunk` jobs are interchangeable tokens, one per chunk still to send: which
 * chunk a token sends is chosen by the claim, in turn between partners (docs/adr/0027).
 */
export const sendChunks = pgTable(
  'send_chunks',
  {
    campaignId: text()
      .notNull()
      .references(() => campaigns.id),
    chunk: integer().notNull(),
    partnerId: text()
      .notNull()
      .references(() => organizations.id),
    /** Recipients assigned to the chunk (its weight in the partner's turn). */
    recipients: integer().notNull(),
    /** Not taken before this moment: the backoff after a temporary SMTP failure. */
    notBefore: timestamp({ withTimezone: true }).notNull().defaultNow(),
    leaseUntil: timestamp({ withTimezone: true }),
    /** The process (`worker_processes.id`) holding the lease. */
    leaseHolder: text(),
    doneAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.chunk] }),
    // The claim's choice among chunks still to send; the reconciler's sweep.
    index('send_chunks_pending_idx').on(t.partnerId, t.campaignId, t.chunk).where(sql`${t.doneAt} is null`),
  ],
);

/**
 * Each partner's place in the campaign senders' round robin: the recipients its chunks
 * have been given so far. The claim takes a chunk of the partner with the lowest turn and
 * adds the chunk's recipients (deficit round robin); a partner starting to send joins at
 * the lowest turn of those sending now.
 */
export const partnerSendTurns = pgTable('partner_send_turns', {
  partnerId: text()
    .primaryKey()
    .references(() => organizations.id),
  turn: bigint({ mode: 'number' }).notNull().default(0),
});

/**
 * The campaign send rate shared by every worker process (SEND_RATE_PER_SECOND): one row,
 * the moment the next message may start. A group of n messages moves it on by n / rate
 * seconds in one statement (lib/send-pace.ts).
 */
export const sendPace = pgTable('send_pace', {
  id: integer().primaryKey(),
  nextAt: timestamp({ withTimezone: true }).notNull(),
});

/**
 * The senders' virtual time: the turn of the partner whose chunk was taken last. A partner
 * joining, or coming back from a backoff, starts from it — no credit for the time it was
 * not sending, and no debt for what it sent last week (docs/adr/0027).
 */
export const sendTurnClock = pgTable('send_turn_clock', {
  id: integer().primaryKey(),
  turn: bigint({ mode: 'number' }).notNull(),
});

/**
 * The worker processes alive now: each writes `beat_at` every few seconds. A lease whose
 * holder has not beaten for PROCESS_STALE_SECONDS has ended, whatever its `lease_until`.
 */
export const workerProcesses = pgTable(
  'worker_processes',
  {
    id: text().primaryKey(),
    host: text().notNull(),
    pid: integer().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    beatAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('worker_processes_beat_idx').on(t.beatAt)],
);
