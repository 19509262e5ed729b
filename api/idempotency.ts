import { createMiddleware } from 'hono/factory';
import { AppError } from '../core/errors.ts';
import type { Db } from '../db/client.ts';
import { sha256Hex } from '../lib/secrets.ts';
import { claimKey, releaseKey, storedKey, storeResponse } from '../services/shared/idempotency-keys.ts';
import type { AppEnv } from './env.ts';

const keyShape = /^[\x21-\x7e]{1,200}$/;

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
 * Responses that carry a secret shown only once (an offer's link, a new API token): their
 * bodies are not kept, and a repeat is told the first succeeded. A staff invitation's answer holds no
 * secret (the link goes by email), so its repeat gets the stored 202 and sends nothing.
 */
const secretResponses = new Set(['/v1/offers', '/v1/tokens']);

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
