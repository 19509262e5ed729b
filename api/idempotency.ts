import { and, eq, lt, sql } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../core/errors.ts';
import type { Db } from '../db/client.ts';
import { preparedPerDb } from '../db/prepared.ts';
import { idempotencyKeys } from '../db/schema/index.ts';
import { sha256Hex } from '../lib/secrets.ts';
import type { AppEnv } from './env.ts';

const keyShape = /^[\x21-\x7e]{1,200}$/;
/** How long a key and its response are kept. */
export const IDEMPOTENCY_TTL_HOURS = 24;

/**
 * `Idempotency-Key` on every POST of the partner API. The first request with a key
 * claims it; its 2xx response is stored. A repeat with the same key and the same request
 * (method, path, content type, body) gets the stored response, marked
 * `Idempotent-Replayed: true`, and causes nothing; with another request it is refused
 * with 422 IDEMPOTENCY_KEY_REUSED; while the first is still running, with 409. A request
 * that did not succeed releases its key, so it can be retried as is.
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header('idempotency-key');
  if (c.req.method !== 'POST' || key === undefined) return next();
  if (!keyShape.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 200 printable characters', {
      issues: [{ path: 'Idempotency-Key', message: 'invalid' }],
    });
  }
  const { db } = c.var.deps;
  const userId = c.var.principal.userId;
  const body = new Uint8Array(await c.req.arrayBuffer());
  const requestHash = sha256Hex(
    `${c.req.method} ${c.req.path}?${new URL(c.req.url).search}\n${c.req.header('content-type') ?? ''}\n${Buffer.from(body).toString('base64')}`,
  );

  const [claimed] = await claimKey(db).execute({ userId, key, requestHash });

  if (!claimed) {
    const [stored] = await storedKey(db).execute({ userId, key });
    if (!stored) throw new AppError('CONFLICT', 'Retry the request');
    if (stored.requestHash !== requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
    }
    if (stored.status === null) {
      throw new AppError('CONFLICT', 'A request with this Idempotency-Key is still in progress');
    }
    if (stored.body === null) {
      throw new AppError(
        'CONFLICT',
        'The request with this Idempotency-Key succeeded; its secrets were shown only once',
      );
    }
    return new Response(stored.body, {
      status: stored.status,
      headers: { 'content-type': stored.contentType ?? 'application/json', 'idempotent-replayed': 'true' },
    });
  }

  try {
    await next();
  } finally {
    await settle(db, userId, key, c.req.path, c.res);
  }
});

/**
 * Responses that carry a secret shown only once (a new staff member's password and token,
 * an offer's link): their bodies are not kept, and a repeat is told the first succeeded.
 */
const secretResponses = new Set(['/v1/staff', '/v1/offers']);

async function settle(
  db: Db,
  userId: string,
  key: string,
  path: string,
  response: Response | undefined,
): Promise<void> {
  if (response && response.status >= 200 && response.status < 300) {
    const body = secretResponses.has(path) ? null : await response.clone().text();
    await storeResponse(db).execute({
      userId,
      key,
      status: response.status,
      contentType: response.headers.get('content-type'),
      body,
    });
  } else {
    await releaseKey(db).execute({ userId, key });
  }
}

// Every POST with a key runs two of these statements, so they are prepared (db/prepared.ts).
const thisKey = and(
  eq(idempotencyKeys.userId, sql.placeholder('userId')),
  eq(idempotencyKeys.key, sql.placeholder('key')),
);

/**
 * Claims a key: a new row, or the row of a key past its 24 hours, taken over as new (in
 * one statement: a stale key is as good as free). No row back: the key is taken.
 */
const claimKey = preparedPerDb((db) =>
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

const storedKey = preparedPerDb((db) =>
  db.select().from(idempotencyKeys).where(thisKey).prepare('stored_idempotency_key'),
);

const storeResponse = preparedPerDb((db) =>
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

const releaseKey = preparedPerDb((db) => db.delete(idempotencyKeys).where(thisKey).prepare('release_idempotency_key'));

/** Forgets keys past their 24 hours (run by the reconciler). */
export async function purgeIdempotencyKeys(db: Db): Promise<number> {
  const deleted = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
