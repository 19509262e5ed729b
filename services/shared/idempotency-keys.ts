import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import { idempotencyKeys } from '../../db/schema/index.ts';

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
 * Claims a key: a new row, or the row of a key past its 24 hours, taken over as new (in
 * one statement: a stale key is as good as free). No row back: the key is taken.
 */
export const claimKey = preparedPerDb((db) =>
  db
    .insert(idempotencyKeys)
    .values({
      userId: sql.placeholder('userId'),
      key: sql.placeholder('key'),
      requestHash: sql.placeholder('requestHash'),
    })
    .onConflictDoUpdate({
      target: [idempotencyKeys.userId, idempotencyKeys.key],
      set: {
        requestHash: sql`excluded.request_hash`,
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
    .where(thisKey)
    .prepare('store_idempotent_response'),
);

export const releaseKey = preparedPerDb((db) =>
  db.delete(idempotencyKeys).where(thisKey).prepare('release_idempotency_key'),
);

/** Forgets keys past their 24 hours (run by the reconciler). */
export async function purgeIdempotencyKeys(db: Db): Promise<number> {
  const deleted = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
