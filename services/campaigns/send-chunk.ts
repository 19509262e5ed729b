import { eq, sql } from 'drizzle-orm';
import type { PartnerRoleView } from '../../core/partner-permissions.ts';
import { delegations } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Mailer } from '../../lib/mailer.ts';
import { semaphore } from '../../lib/semaphore.ts';
import { paceSends } from '../../lib/send-pace.ts';
import { leaseEnded as leaseEndedSql } from '../../lib/worker-process.ts';
import { applyTransition, systemActor } from '../delegations/transitions.ts';
import { completeCampaigns } from './completion.ts';
import {
  type ClaimedOffer,
  campaignRequesterJson,
  type DeferredOutcome,
  type DeliverOfferDeps,
  deliverOffer,
  type OfferFacts,
  type SendOfferOutcome,
  stopIfRequesterMayNotSend,
} from './deliver-offer.ts';

/**
 * Claims of one recipient that may end without an outcome before it is sent alone, after
 * the rest of its chunk; and before it fails for good (docs/adr/0027).
 */
export const SUSPECT_AFTER_INTERRUPTIONS = 2;
export const INTERRUPTED_CLAIMS_CAP = 3;

/** The token found no chunk it may send now, though some are still to send: try again after `retryAfterMs`. */
export class ChunkWaits extends Error {
  override name = 'ChunkWaits';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export interface SendChunkDeps extends DeliverOfferDeps {
  config: DeliverOfferDeps['config'] &
    Pick<
      Config,
      | 'leaseSeconds'
      | 'processStaleSeconds'
      | 'campaignChunkSize'
      | 'sendRatePerSecond'
      | 'mailAttempts'
      | 'mailBackoffMs'
      | 'mailConcurrency'
    >;
  /** This process, as its leases name it (lib/worker-process.ts). */
  processId: string;
}

export interface ChunkRun {
  campaignId: string;
  chunk: number;
  sent: number;
  failed: number;
  deferred: number;
  /** Recipients whose send stopped on an error other than the mail server's (left leased). */
  errors: number;
  /** No recipient of the chunk waits any more. */
  done: boolean;
}

interface PickedChunk extends Record<string, unknown> {
  campaign_id: string;
  chunk: number;
}

interface ClaimedRow extends Record<string, unknown> {
  id: string;
  recipient_email: string;
  recipient_name: string | null;
  recipient_company: string | null;
  roles: string[];
  duration_days: number;
  auto_extend: boolean;
  send_attempts: number;
  send_attempts_base: number;
  uncertain_sends: number;
  send_interruptions: number;
}

interface FactsRow extends Record<string, unknown> {
  partner_name: string;
  partner_id: string;
  offer_expires_at: string;
  offer_revoked: boolean;
  offer_expired: boolean;
  requester: { userId: string; access: PartnerRoleView | null };
}

const leaseEnded = (deps: SendChunkDeps, until: string, holder: string) =>
  leaseEndedSql(until, holder, deps.config.processStaleSeconds);

/**
 * The chunks each process is running now, as `campaign:chunk`. A chunk or recipient whose
 * lease names this process but that no run of it holds is a leftover of a run that stopped
 * on an error (the database away, say) — free to this process at once, not after the half
 * hour a live holder's lease otherwise keeps (lib/worker-process.ts).
 */
const running = new Map<string, Map<string, number>>();
const chunkKey = (campaignId: string, chunk: number) => `${campaignId}:${chunk}`;
/** Runs of each chunk in this process now, by key: counted, as a run may take its chunk again while the last one ends. */
function runningHere(processId: string): Map<string, number> {
  let keys = running.get(processId);
  if (!keys) {
    keys = new Map();
    running.set(processId, keys);
  }
  return keys;
}
function ended(here: Map<string, number>, key: string): void {
  const runs = (here.get(key) ?? 1) - 1;
  if (runs > 0) here.set(key, runs);
  else here.delete(key);
}

/** The take under way in each process: takes of one process run one after another. */
const takes = new Map<string, Promise<unknown>>();
function takingInTurn<T>(processId: string, take: () => Promise<T>): Promise<T> {
  const previous = takes.get(processId) ?? Promise.resolve();
  const mine = previous.then(take, take);
  takes.set(
    processId,
    mine.catch(() => undefined),
  );
  return mine;
}

/**
 * SQL true when the recipient row `d` has a lease left by an attempt that did not end: one
 * naming another process (this process's own leftovers are errors, not interruptions).
 */
const interruptedSql = (processId: string) =>
  sql`(d.send_lease_until is not null and d.send_lease_holder is distinct from ${processId})`;

/**
 * Takes the next chunk to send, in turn between partners: a chunk of the partner whose turn
 * is lowest (then its oldest campaign's first chunk), whose lease is free (never taken,
 * lapsed, or held by a process no longer beating) and whose backoff has passed; the
 * partner's turn moves on by the chunk's recipients. One statement; `skip locked` lets
 * many workers take different chunks at once.
 */
async function takeChunk(deps: SendChunkDeps): Promise<PickedChunk | undefined> {
  const busy = [...runningHere(deps.processId).keys()].join(',');
  const [picked] = await deps.db.execute<PickedChunk>(sql`
    with clock as (
      select turn from send_turn_clock where id = 1
    ), pick as (
      select c.campaign_id, c.chunk, c.partner_id, c.recipients, greatest(t.turn, clock.turn) as turn
      from send_chunks c join partner_send_turns t on t.partner_id = c.partner_id, clock
      where c.done_at is null and c.not_before <= now()
        -- Never a chunk this process is running, whatever its lease says (its own heartbeat
        -- may look stale while its pool is busy).
        and not (c.campaign_id::text || ':' || c.chunk::text) = any(string_to_array(${busy}, ','))
        and (${leaseEnded(deps, 'c.lease_until', 'c.lease_holder')} or c.lease_holder = ${deps.processId})
      order by greatest(t.turn, clock.turn), c.campaign_id, c.chunk
      limit 1
      for update of c skip locked
    ), turned as (
      -- From the virtual time at least: a partner back from a backoff has no credit saved up.
      update partner_send_turns t set turn = pick.turn + pick.recipients from pick where t.partner_id = pick.partner_id
    ), ticked as (
      update send_turn_clock k set turn = greatest(k.turn, pick.turn) from pick where k.id = 1
    )
    update send_chunks c
    set lease_until = now() + make_interval(secs => ${deps.config.leaseSeconds}), lease_holder = ${deps.processId},
        updated_at = now()
    from pick where c.campaign_id = pick.campaign_id and c.chunk = pick.chunk
    returning c.campaign_id, c.chunk`);
  return picked;
}

/**
 * The order a run sends its chunk in. `doubted`: recipients found still marked in doubt —
 * a death came between their end of data and its answer — one at a time, first: such a
 * recipient is either what killed the worker (the server has it; a second death there
 * makes it assumed sent, ADR 5's two copies) or a bystander of a death caused by another
 * recipient, which alone goes through. Sent among the others, a bystander was in flight
 * again when the same culprit killed the next worker, and was assumed sent though the
 * server never had it. `others`: the rest but suspects, a group at a time. `suspects`:
 * recipients interrupted {@link SUSPECT_AFTER_INTERRUPTIONS} times or more, one at a
 * time, last.
 */
type ClaimPhase = 'doubted' | 'others' | 'suspects';

/**
 * Claims up to `limit` recipients of the chunk after `after` (by id), in one statement: a
 * lease naming this process and an attempt number each, the chunk's lease renewed. A claim
 * that finds the previous one's lease still set counts an interruption; one that finds the
 * row still marked in doubt counts an uncertain send (docs/adr/0005) — the mark, not the
 * lease, says the server may have the message. `phase`: see {@link ClaimPhase}; `except`:
 * recipients this run has claimed already (one deferred is not claimed again in its run).
 */
async function claimRecipients(
  deps: SendChunkDeps,
  chunk: PickedChunk,
  options: { after: string; limit: number; phase: ClaimPhase; except: readonly string[] },
): Promise<ClaimedRow[]> {
  const suspect = sql`(d.send_interruptions + ${interruptedSql(deps.processId)}::int >= ${SUSPECT_AFTER_INTERRUPTIONS})`;
  const inPhase =
    options.phase === 'doubted'
      ? sql`d.send_in_doubt`
      : sql`not d.send_in_doubt and ${suspect} = ${options.phase === 'suspects'}`;
  const rows = await deps.db.execute<ClaimedRow>(sql`
    with picked as (
      select d.id from delegations d
      where d.campaign_id = ${chunk.campaign_id} and d.send_chunk = ${chunk.chunk} and d.state = 'invited'
        and d.id > ${options.after}
        -- Counting the interruption this claim records: a recipient becomes a suspect in the
        -- claim after its second, so it is sent alone before a third can be counted.
        and ${inPhase}
        and d.id <> all(${sql.param(options.except)}::text[])
        -- This process's own leases in the chunk it holds are leftovers: its run settles
        -- every claimed recipient before it claims again.
        and (${leaseEnded(deps, 'd.send_lease_until', 'd.send_lease_holder')} or d.send_lease_holder = ${deps.processId})
      order by d.id limit ${options.limit}
      for update of d skip locked
    ), renewed as (
      update send_chunks set lease_until = now() + make_interval(secs => ${deps.config.leaseSeconds}), updated_at = now()
      where campaign_id = ${chunk.campaign_id} and chunk = ${chunk.chunk} and lease_holder = ${deps.processId}
    )
    update delegations d
    set send_attempts = d.send_attempts + 1,
        send_lease_until = now() + make_interval(secs => ${deps.config.leaseSeconds}),
        send_lease_holder = ${deps.processId},
        send_interruptions = d.send_interruptions + ${interruptedSql(deps.processId)}::int,
        uncertain_sends = d.uncertain_sends + d.send_in_doubt::int, send_in_doubt = false
    from picked where d.id = picked.id
    returning d.id, d.recipient_email, d.recipient_name, d.recipient_company, d.roles, d.duration_days,
              d.auto_extend, d.send_attempts, d.send_attempts_base, d.uncertain_sends, d.send_interruptions`);
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** What the chunk's recipients share, read once per claim. */
async function readFacts(deps: SendChunkDeps, campaignId: string): Promise<OfferFacts | undefined> {
  const [row] = await deps.db.execute<FactsRow>(sql`
    select p.name as partner_name, c.partner_id, o.expires_at as offer_expires_at,
           o.revoked_at is not null as offer_revoked, o.expires_at <= now() as offer_expired,
           -- The requester's access as of this claim: a campaign goes out on their authority.
           ${campaignRequesterJson} as requester
    from campaigns c join offers o on o.id = c.offer_id join organizations p on p.id = c.partner_id
    where c.id = ${campaignId}`);
  if (!row) return undefined;
  return {
    partnerName: row.partner_name,
    partnerId: row.partner_id,
    campaignId,
    offerExpiresAt: new Date(row.offer_expires_at),
    offerRevoked: row.offer_revoked,
    offerExpired: row.offer_expired,
    requester: row.requester,
  };
}

/** Emails of this process in flight at once across its chunks (MAIL_CONCURRENCY). */
const inFlight = new WeakMap<Mailer, ReturnType<typeof semaphore>>();
function limiterOf(mailer: Mailer, max: number) {
  let limit = inFlight.get(mailer);
  if (!limit) {
    limit = semaphore(max);
    inFlight.set(mailer, limit);
  }
  return limit;
}

/** Sends one claimed recipient: the failure of an interrupted-too-often one, or its email. */
async function sendRecipient(
  deps: SendChunkDeps,
  row: ClaimedRow,
  facts: OfferFacts,
): Promise<SendOfferOutcome | DeferredOutcome> {
  const offer: ClaimedOffer = {
    delegationId: row.id,
    recipientEmail: row.recipient_email,
    recipientName: row.recipient_name,
    recipientCompany: row.recipient_company,
    roles: row.roles,
    durationDays: row.duration_days,
    autoExtend: row.auto_extend,
    sendAttempts: row.send_attempts,
    sendAttemptsBase: row.send_attempts_base,
    uncertainSends: row.uncertain_sends,
  };
  // Attempts since the last retry of a failed send (send_attempts only grows: it is the fence).
  const attempts = row.send_attempts - row.send_attempts_base;
  // In doubt twice counts as sent (deliverOffer, ADR 5) before this: those reached a server.
  const stoppedWorkers = row.send_interruptions >= INTERRUPTED_CLAIMS_CAP && row.uncertain_sends < 2;
  if (stoppedWorkers || attempts > deps.config.mailAttempts) {
    const reason = stoppedWorkers
      ? `Sending stopped before reaching the mail server ${row.send_interruptions} times; not trying again`
      : `Gave up after ${attempts - 1} attempts`;
    await applyTransition(deps.db, {
      delegationId: row.id,
      from: 'invited',
      guard: eq(delegations.sendAttempts, row.send_attempts),
      event: 'send_failed',
      actor: systemActor,
      set: { failureReason: reason, sendLeaseUntil: null, sendInDoubt: false },
      detail: { reason, attempt: row.send_attempts, interruptions: row.send_interruptions },
    });
    deps.logger.warn({ delegationId: row.id, reason }, 'offer email failed for good');
    return { outcome: 'failed', reason, reply: null };
  }
  const result = await deliverOffer(deps, offer, facts, {
    isFinalAttempt: attempts >= deps.config.mailAttempts,
  });
  if (result.outcome === 'failed') {
    deps.logger.warn(
      { delegationId: row.id, reason: result.reason, reply: result.reply },
      'offer email failed for good',
    );
  }
  return result;
}

/**
 * Sends the next chunk of campaign offers, whichever campaign's turn it is: the work of
 * one `send-chunk` job. Returns the run, or null when no chunk is left to send at all;
 * throws {@link ChunkWaits} when chunks remain but none may be taken now, and after a run
 * that left recipients waiting (a temporary failure's backoff, another holder's lease).
 *
 * Recipients are claimed a group at a time — a second's worth of SEND_RATE_PER_SECOND, or
 * the whole chunk when unlimited — paced by one shared statement per group, and sent
 * through the process's pipeline (lib/mailer.ts), whose marks and outcomes share commits.
 * Recipients interrupted twice are sent last and one at a time, so an email that stops
 * the worker stops only itself.
 */
export async function sendNextChunk(deps: SendChunkDeps): Promise<ChunkRun | null> {
  const here = runningHere(deps.processId);
  // One take at a time per process, each entered in `running` before the next take: a
  // second run starting beside the first must not find the first's fresh lease a leftover
  // of its own (two runs of one chunk sent its recipients twice).
  const chunk = await takingInTurn(deps.processId, async () => {
    const taken = await takeChunk(deps);
    if (taken) {
      const key = chunkKey(taken.campaign_id, taken.chunk);
      here.set(key, (here.get(key) ?? 0) + 1);
    }
    return taken;
  });
  if (!chunk) {
    const [left] = await deps.db.execute<{ pending: number; wait_ms: number | null }>(sql`
      select count(*)::int as pending,
             (extract(epoch from min(greatest(not_before, coalesce(lease_until, now()))) - now()) * 1000)::float8 as wait_ms
      from send_chunks where done_at is null`);
    if (!left || left.pending === 0) return null;
    throw new ChunkWaits('every chunk still to send is held or backing off', clamp(left.wait_ms ?? 0, 1000, 30_000));
  }
  const key = chunkKey(chunk.campaign_id, chunk.chunk);
  let run: ChunkRun;
  try {
    run = await runChunk(deps, chunk);
  } catch (error) {
    if (error instanceof ChunkWaits) ended(here, key);
    else {
      // Freed and forgotten in one turn of the takes: no take of this process comes between
      // (one would find the chunk neither leased nor running, and its rows freed under it).
      await takingInTurn(deps.processId, async () => {
        await releaseLeftovers(deps, chunk, error);
        ended(here, key);
      });
    }
    throw error;
  }
  ended(here, key);
  return run;
}

/**
 * After a run stopped on an error: frees the chunk and the recipients this process still
 * leases in it, so any process may take them at once. Best effort — when the database is
 * still away, this process takes its leftovers itself (see `running`).
 */
async function releaseLeftovers(deps: SendChunkDeps, chunk: PickedChunk, cause: unknown): Promise<void> {
  deps.logger.warn({ err: cause, campaignId: chunk.campaign_id, chunk: chunk.chunk }, 'chunk run stopped');
  await deps.db
    .execute(sql`
      with rows as (
        update delegations set send_lease_until = null, send_lease_holder = null
        where campaign_id = ${chunk.campaign_id} and send_chunk = ${chunk.chunk} and state = 'invited'
          and send_lease_holder = ${deps.processId}
      )
      update send_chunks set lease_until = null, lease_holder = null, updated_at = now()
      where campaign_id = ${chunk.campaign_id} and chunk = ${chunk.chunk} and lease_holder = ${deps.processId}`)
    .catch((error: unknown) =>
      deps.logger.warn(
        { err: error, campaignId: chunk.campaign_id, chunk: chunk.chunk },
        'could not free the chunk now; this process takes it back itself',
      ),
    );
}

/** Sends the claimed recipients of one chunk this process holds; see {@link sendNextChunk}. */
async function runChunk(deps: SendChunkDeps, chunk: PickedChunk): Promise<ChunkRun> {
  const run: ChunkRun = {
    campaignId: chunk.campaign_id,
    chunk: chunk.chunk,
    sent: 0,
    failed: 0,
    deferred: 0,
    errors: 0,
    done: false,
  };
  const perSecond = deps.config.sendRatePerSecond;
  const groupSize = perSecond > 0 ? clamp(perSecond, 1, deps.config.campaignChunkSize) : deps.config.campaignChunkSize;
  const limit = limiterOf(deps.mailer, deps.config.mailConcurrency);
  // The soonest backoff of a recipient deferred by a temporary failure.
  let backoffMs: number | undefined;
  // Claimed alone because found in doubt: not claimed again by this run after a deferral.
  const doubted: string[] = [];
  for (const phase of ['doubted', 'others', 'suspects'] as const) {
    let after = '';
    for (;;) {
      const rows = await claimRecipients(deps, chunk, {
        after,
        limit: phase === 'others' ? groupSize : 1,
        phase,
        except: doubted,
      });
      const last = rows.at(-1);
      if (!last) break;
      after = last.id;
      if (phase === 'doubted') doubted.push(last.id);
      const facts = await readFacts(deps, chunk.campaign_id);
      if (!facts || (await stopIfRequesterMayNotSend(deps, facts))) break;
      await paceSends(deps.db, perSecond, rows.length);
      // Settled, every one: a recipient whose outcome could not be written (the database away
      // past its retries) keeps its lease and is counted when next claimed; the others go on.
      const settled = await Promise.allSettled(rows.map((row) => limit(() => sendRecipient(deps, row, facts))));
      settled.forEach((result, i) => {
        if (result.status === 'rejected') {
          run.errors++;
          deps.logger.warn({ err: result.reason, delegationId: (rows[i] as ClaimedRow).id }, 'offer send stopped');
          return;
        }
        const o = result.value as SendOfferOutcome | DeferredOutcome;
        if (o.outcome === 'sent' || o.outcome === 'skipped') run.sent++;
        else if (o.outcome === 'failed') run.failed++;
        else {
          run.deferred++;
          const row = rows[i] as ClaimedRow;
          const attempt = row.send_attempts - row.send_attempts_base;
          const wait = Math.min(3_600_000, deps.config.mailBackoffMs * 2 ** Math.max(0, attempt - 1));
          backoffMs = Math.min(backoffMs ?? wait, wait);
        }
      });
    }
  }
  // Done when none of its recipients waits; otherwise back off and let a token take it
  // again (recipients left by another holder: a few seconds).
  const retryAfterMs = backoffMs ?? 5_000;
  const [finished] = await deps.db.execute<{ done: boolean }>(sql`
    update send_chunks c
    set done_at = case when exists (select 1 from delegations d where d.campaign_id = c.campaign_id
                                     and d.send_chunk = c.chunk and d.state = 'invited') then null else now() end,
        not_before = now() + make_interval(secs => ${retryAfterMs / 1000}),
        lease_until = null, lease_holder = null, updated_at = now()
    where c.campaign_id = ${chunk.campaign_id} and c.chunk = ${chunk.chunk} and c.lease_holder = ${deps.processId}
    returning c.done_at is not null as done`);
  run.done = finished?.done ?? false;
  if (run.done) {
    // The campaign may be complete now; if this check fails, the lifecycle sweep makes it.
    await completeCampaigns(deps.db, [chunk.campaign_id]).catch((error: unknown) =>
      deps.logger.warn({ err: error, campaignId: chunk.campaign_id }, 'campaign completion left to the sweep'),
    );
  }
  if (!run.done) {
    // Overtaken (this process was thought gone) or recipients left waiting: this token
    // stays, to take a chunk again later — tokens end only with the chunks they finish.
    throw new ChunkWaits(
      `chunk ${chunk.chunk} of campaign ${chunk.campaign_id} not finished`,
      finished ? retryAfterMs : 1000,
    );
  }
  return run;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
