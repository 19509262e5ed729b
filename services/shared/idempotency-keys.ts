import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
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
        sql`coalesce(${idempotencyKeys.claimedUntil}, ${idempotencyKeys.createdAt}) < now()`,
        sql`not exists (select 1 from ${auditEvents} where ${auditEvents.requestId} = ${idempotencyKeys.requestId})`,
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
    .where(eq(auditEvents.requestId, requestId))
    .orderBy(auditEvents.id)
    .limit(1);
  return row ?? null;
}

export const storedKey = preparedPerDb((db) =>
  db.select().from(idempotencyKeys).where(thisKey).prepare('stored_idempotency_key'),
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

/** Frees the key of a request that did not succeed (only while the claim is still that request's). */
export const releaseKey = preparedPerDb((db) =>
  db
    .delete(idempotencyKeys)
    .where(and(thisKey, sql`${idempotencyKeys.requestId} = ${sql.placeholder('requestId')}`))
    .prepare('release_idempotency_key'),
);

/** Forgets keys past their 24 hours (run by the reconciler). */
export async function purgeIdempotencyKeys(db: Db): Promise<number> {
  const deleted = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
