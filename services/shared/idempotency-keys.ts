import { AsyncLocalStorage } from 'node:async_hooks';
import { and, eq, lt, ne, type SQL, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import type { Db, DbOrTx, Sql } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import { auditEvents, idempotencyKeys } from '../../db/schema/index.ts';

/**
 * The store behind `Idempotency-Key` (the API's middleware, api/idempotency.ts): one row
 * per user and key, claimed by the first request and holding its response. The reconciler
 * purges keys past their time.
 */

/** How long a key and its response are kept. */
export const IDEMPOTENCY_TTL_HOURS = 24;

// Every POST with a key runs two of these statements, so they are prepared (db/prepared.ts).
/** An audit row that shows a request took effect: bearing its id, and not a refusal (`api.denied`). */
const effectBy = (requestId: SQL) =>
  sql`exists (select 1 from ${auditEvents} where ${auditEvents.requestId} = ${requestId} and ${auditEvents.outcome} <> 'rejected')`;

const thisKey = and(
  eq(idempotencyKeys.userId, sql.placeholder('userId')),
  eq(idempotencyKeys.key, sql.placeholder('key')),
);

/**
 * Claims a key for a request (its id, and a lease of `leaseSeconds`): a new row, or the row
 * of a key past its 24 hours, taken over as new (in one statement: a stale key is as good
 * as free). No row back: the key is taken.
 */
export const claimKey = preparedPerDb((db) =>
  db
    .insert(idempotencyKeys)
    .values({
      userId: sql.placeholder('userId'),
      key: sql.placeholder('key'),
      requestHash: sql.placeholder('requestHash'),
      requestId: sql.placeholder('requestId'),
      claimedUntil: sql`now() + make_interval(secs => ${sql.placeholder('leaseSeconds')})`,
    })
    .onConflictDoUpdate({
      target: [idempotencyKeys.userId, idempotencyKeys.key],
      set: {
        requestHash: sql`excluded.request_hash`,
        requestId: sql`excluded.request_id`,
        claimedUntil: sql`excluded.claimed_until`,
        status: sql`null`,
        contentType: sql`null`,
        body: sql`null`,
        createdAt: sql`now()`,
      },
      setWhere: sql`${idempotencyKeys.createdAt} <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`,
    })
    .returning({ key: idempotencyKeys.key })
    .prepare('claim_idempotency_key'),
);

/**
 * Takes over a claim its request abandoned — unanswered, its lease past — if that request
 * took no effect: nothing in the audit trail bears its request id (every change is
 * audited with it, in the change's own transaction). No row back: not abandoned, or it
 * took effect.
 */
export const takeOverAbandonedKey = preparedPerDb((db) =>
  db
    .update(idempotencyKeys)
    .set({
      requestId: sql`${sql.placeholder('requestId')}`,
      claimedUntil: sql`now() + make_interval(secs => ${sql.placeholder('leaseSeconds')})`,
    })
    .where(
      and(
        thisKey,
        sql`${idempotencyKeys.status} is null`,
        sql`${idempotencyKeys.requestHash} = ${sql.placeholder('requestHash')}`,
        // A claim from before claims had a request id cannot be judged: it waits for its 24 hours.
        sql`${idempotencyKeys.requestId} is not null`,
        sql`${idempotencyKeys.claimedUntil} < now()`,
        sql`not ${effectBy(sql`${idempotencyKeys.requestId}`)}`,
      ),
    )
    .returning({ key: idempotencyKeys.key })
    .prepare('take_over_idempotency_key'),
);

/** Keeps a running request's claim (every third of the lease). */
export const renewKey = preparedPerDb((db) =>
  db
    .update(idempotencyKeys)
    .set({ claimedUntil: sql`now() + make_interval(secs => ${sql.placeholder('leaseSeconds')})` })
    .where(and(thisKey, sql`${idempotencyKeys.requestId} = ${sql.placeholder('requestId')}`))
    .prepare('renew_idempotency_key'),
);

/** What an abandoned request that took effect changed: the first audit row bearing its request id. */
export async function effectOf(db: Db, requestId: string) {
  const [row] = await db
    .select({ targetType: auditEvents.targetType, targetId: auditEvents.targetId })
    .from(auditEvents)
    .where(and(eq(auditEvents.requestId, requestId), ne(auditEvents.outcome, 'rejected')))
    .orderBy(auditEvents.id)
    .limit(1);
  return row ?? null;
}

/** The key's row, and whether its claim's lease is past (by the database's clock, as the takeover judges it). */
export const storedKey = preparedPerDb((db) =>
  db
    .select({
      requestHash: idempotencyKeys.requestHash,
      requestId: idempotencyKeys.requestId,
      status: idempotencyKeys.status,
      contentType: idempotencyKeys.contentType,
      body: idempotencyKeys.body,
      leasePast: sql<boolean>`coalesce(${idempotencyKeys.claimedUntil} < now(), false)`,
    })
    .from(idempotencyKeys)
    .where(thisKey)
    .prepare('stored_idempotency_key'),
);

export const storeResponse = preparedPerDb((db) =>
  db
    .update(idempotencyKeys)
    .set({
      status: sql`${sql.placeholder('status')}`,
      contentType: sql`${sql.placeholder('contentType')}`,
      body: sql`${sql.placeholder('body')}`,
    })
    .where(and(thisKey, sql`${idempotencyKeys.requestId} = ${sql.placeholder('requestId')}`))
    .prepare('store_idempotent_response'),
);

/**
 * Frees the key of a request that did not succeed — only while the claim is still that
 * request's, and only if it took no effect: a request whose commit went through but whose
 * answer failed (the connection lost at COMMIT) keeps its claim, and a retry is told.
 */
export const releaseKey = preparedPerDb((db) =>
  db
    .delete(idempotencyKeys)
    .where(
      and(
        thisKey,
        sql`${idempotencyKeys.requestId} = ${sql.placeholder('requestId')}`,
        sql`not ${effectBy(sql`${sql.placeholder('requestId')}`)}`,
      ),
    )
    .prepare('release_idempotency_key'),
);

/**
 * Ends the lease of a request that has finished without success and could not release its
 * key (it took effect — e.g. it committed after its deadline was answered, or lost its
 * connection at COMMIT): a retry is then judged at once (answered IDEMPOTENT_RESPONSE_LOST)
 * instead of waiting out the lease as if the request were still running.
 */
export const endClaim = preparedPerDb((db) =>
  db
    .update(idempotencyKeys)
    .set({ claimedUntil: sql`now()` })
    .where(
      and(
        thisKey,
        sql`${idempotencyKeys.requestId} = ${sql.placeholder('requestId')}`,
        sql`${idempotencyKeys.status} is null`,
      ),
    )
    .prepare('end_idempotency_claim'),
);

/** What a request whose key is already taken is to do (see {@link answerRepeatedKey}). */
export type RepeatedKey =
  /** The first request succeeded: answer with its stored response (`body` null: it held a secret, not kept). */
  | { kind: 'stored'; status: number; contentType: string | null; body: string | null }
  /** The first request is still running. */
  | { kind: 'running' }
  /** The first request abandoned its claim without effect; this one took it over and should run. */
  | { kind: 'taken-over' };

/**
 * Judges a request whose key is taken, by the key's row: the stored response of a first
 * request that succeeded, a first request still running, or an abandoned claim taken over
 * (its lease past and nothing audited under its request id). Throws
 * IDEMPOTENCY_KEY_REUSED for another request under the same key, IDEMPOTENT_RESPONSE_LOST
 * for an abandoned claim that took effect (naming what it changed, ADR 19), and CONFLICT
 * when the row went away meanwhile. The API's middleware (api/idempotency.ts) and the
 * dashboard's forms (api/web/shared/form-key.ts) both answer repeats through this.
 */
export async function answerRepeatedKey(
  db: Db,
  claim: { userId: string; key: string; requestHash: string; requestId: string; leaseSeconds: number },
): Promise<RepeatedKey> {
  const [stored] = await storedKey(db).execute(claim);
  if (!stored) throw new AppError('CONFLICT', 'Retry the request');
  if (stored.requestHash !== claim.requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
  }
  if (stored.status !== null) {
    return { kind: 'stored', status: stored.status, contentType: stored.contentType, body: stored.body };
  }
  if (stored.leasePast) {
    const [taken] = await takeOverAbandonedKey(db).execute(claim);
    if (taken) return { kind: 'taken-over' };
    const effect = stored.requestId ? await effectOf(db, stored.requestId) : null;
    if (effect) {
      throw new AppError(
        'IDEMPOTENT_RESPONSE_LOST',
        `The first request with this Idempotency-Key took effect (${effect.targetType} ${effect.targetId}) but its answer was lost; read the result instead of sending it again`,
        { details: { effect } },
      );
    }
  }
  return { kind: 'running' };
}

/**
 * Renews a running request's claim every third of its lease, so a slow request is not
 * taken for an abandoned one; `holds` says whether the request holds the key yet (a claim
 * made in the change's own commit does not, before it). Returns the function that stops it.
 */
export function keepClaim(
  db: Db,
  claim: { userId: string; key: string; requestId: string; leaseSeconds: number },
  onProblem: (problem: { message: string; error?: unknown }) => void,
  holds: () => boolean = () => true,
): () => void {
  const renewal = setInterval(
    () => {
      if (!holds()) return;
      renewKey(db)
        .execute(claim)
        .then((renewed) => {
          // Taken over: this request's changes will be refused by the fence.
          if (renewed.count === 0)
            onProblem({ message: 'an idempotency key claim was taken over while its request ran' });
        })
        .catch((error: unknown) => onProblem({ message: 'could not renew an idempotency key claim', error }));
    },
    (claim.leaseSeconds * 1000) / 3,
  );
  return () => clearInterval(renewal);
}

/** The claim of the request being served, when it came with an `Idempotency-Key`. */
export interface IdempotencyClaim {
  userId: string;
  key: string;
  requestId: string;
  leaseSeconds: number;
  /**
   * Set on the routes whose one change claims the key in its own statement
   * ({@link claimInCommitSql}): the request hash to claim with, and whether it has.
   */
  inCommit?: { requestHash: string; claimed: boolean };
}

/** The key of a request that claims it in its change's commit was already taken: answer as a repeat. */
export class IdempotencyKeyTaken extends AppError {
  override name = 'IdempotencyKeyTaken';
  constructor() {
    super('CONFLICT', 'A request with this Idempotency-Key was already made');
  }
}

/**
 * The claim made in the change's own statement (the operation routes, where the change is
 * one statement): a CTE `claim` to begin a `with`, returning a row only if this request
 * now holds the key — new, past its 24 hours, or abandoned by a request that took no
 * effect (as {@link takeOverAbandonedKey} judges it). The change's CTEs go on only
 * `where exists (select 1 from claim)`. So the key, the change and its audit row commit
 * together, or none of them: no claim is ever left behind by a request that changed
 * nothing, and a repeat waits on the first's key row until it commits. The fence is the
 * claim itself (the row is this statement's, locked, until it commits).
 */
export function claimInCommitSql(q: Sql, claim: IdempotencyClaim & { inCommit: { requestHash: string } }) {
  return q`
    claim as (
      insert into idempotency_keys as k (user_id, key, request_hash, request_id, claimed_until)
      values (${claim.userId}, ${claim.key}, ${claim.inCommit.requestHash}, ${claim.requestId},
              now() + make_interval(secs => ${claim.leaseSeconds}))
      on conflict (user_id, key) do update
      set request_hash = excluded.request_hash, request_id = excluded.request_id,
          claimed_until = excluded.claimed_until, status = null, content_type = null, body = null,
          created_at = now()
      where k.created_at <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
         or (k.status is null and k.request_hash = excluded.request_hash and k.request_id is not null
             and k.claimed_until < now()
             and not exists (select 1 from audit_events a where a.request_id = k.request_id and a.outcome <> 'rejected'))
      returning 1
    )`;
}

/** The claim of the request being served (set by the API's middleware around the handler). */
export const currentClaim = new AsyncLocalStorage<IdempotencyClaim>();

const claimLost = () =>
  new AppError(
    'CONFLICT',
    'A retry with this Idempotency-Key took over after this request stopped answering; this request changed nothing',
  );

/**
 * The fence: inside a change's own transaction, renews the request's claim and locks its
 * row — or finds the claim gone (taken over by a retry after its lease passed) and refuses
 * the change. So a claim is taken over only before the change commits (and the change then
 * rolls back) or after it (and the takeover sees its audit row): never both effects.
 * Every change a keyed request makes is audited in its transaction, so the audit writers
 * call this: `recordAudit`, and the statements that audit in a CTE.
 */
export async function fenceClaim(tx: DbOrTx): Promise<void> {
  const claim = currentClaim.getStore();
  if (!claim) return;
  const rows = await tx.execute(sql`update ${idempotencyKeys}
    set claimed_until = now() + make_interval(secs => ${claim.leaseSeconds})
    where ${idempotencyKeys.userId} = ${claim.userId} and ${idempotencyKeys.key} = ${claim.key}
      and ${idempotencyKeys.requestId} = ${claim.requestId} and ${idempotencyKeys.status} is null
    returning 1`);
  if (rows.length === 0) throw claimLost();
}

/** A change on a route that claims in its commit, made before the claim: a mistake of the route's code. */
const claimNotYetMade = () =>
  new Error('This route claims its Idempotency-Key with its change (claimInCommitSql); a change came first');

/** {@link fenceClaim} for a postgres.js transaction (the statements written with postgres.js). */
export async function fenceClaimSql(tx: Sql): Promise<void> {
  const claim = currentClaim.getStore();
  if (!claim) return;
  if (claim.inCommit && !claim.inCommit.claimed) throw claimNotYetMade();
  const rows = await tx`update idempotency_keys
    set claimed_until = now() + make_interval(secs => ${claim.leaseSeconds})
    where user_id = ${claim.userId} and key = ${claim.key} and request_id = ${claim.requestId} and status is null
    returning 1`;
  if (rows.length === 0) throw claimLost();
}

/** Forgets keys past their 24 hours (run by the reconciler). */
export async function purgeIdempotencyKeys(db: Db): Promise<number> {
  const deleted = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
