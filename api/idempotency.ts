import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { AppError } from '../core/errors.ts';
import type { Db } from '../db/client.ts';
import { sha256Hex } from '../lib/secrets.ts';
import {
  answerRepeatedKey,
  claimKey,
  currentClaim,
  endClaim,
  type IdempotencyClaim,
  IdempotencyKeyTaken,
  keepClaim,
  releaseKey,
  storeResponse,
} from '../services/shared/idempotency-keys.ts';
import type { AppEnv } from './env.ts';

const keyShape = /^[\x21-\x7e]{1,200}$/;

/**
 * The routes whose change is one statement that claims the key itself, so the key, the
 * operation and its audit row commit together (services/operations/requests.ts
 * `recordOperation`, `claimInCommitSql`): the request's only commit.
 */
const claimsInCommit = new Set([
  '/v1/delegations/:id/users',
  '/v1/delegations/:id/users/:userId/password-reset',
  '/v1/delegations/:id/domains',
  '/v1/delegations/:id/domains/:name/verify',
]);

/**
 * `Idempotency-Key` on every POST of the partner API. The first request with a key
 * claims it, with its request id and a lease renewed while it runs; its 2xx response is
 * stored. A repeat with the same key and the same request (method, path, content type,
 * body) gets the stored response, marked `Idempotent-Replayed: true`, and causes nothing;
 * with another request it is refused with 422 IDEMPOTENCY_KEY_REUSED; while the first is
 * still running, with 409. A request that did not succeed releases its key, so it can be
 * retried as is — unless it took effect after all (it committed past its deadline, or lost
 * its answer at COMMIT): then its claim stays, its lease ended, and a retry is told at once.
 * A claim left behind — its process killed, the database gone at the wrong
 * moment — is looked at again once its lease is past: taken over when its request took no
 * effect (nothing audited under its request id), answered 409 IDEMPOTENT_RESPONSE_LOST,
 * naming what it changed, when it did (ADR 19). On the operation routes the claim is made
 * by the operation's own statement instead (`claimsInCommit`): one commit, and nothing
 * left behind by a request that stopped before it.
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header('idempotency-key');
  if (c.req.method !== 'POST' || key === undefined) return next();
  if (!keyShape.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 200 printable characters', {
      issues: [{ path: 'Idempotency-Key', message: 'invalid' }],
    });
  }
  const { db, config } = c.var.deps;
  const userId = c.var.principal.userId;
  const requestId = c.var.requestId;
  const leaseSeconds = config.idempotencyLeaseSeconds;
  const body = new Uint8Array(await c.req.arrayBuffer());
  const requestHash = sha256Hex(
    `${c.req.method} ${c.req.path}?${new URL(c.req.url).search}\n${c.req.header('content-type') ?? ''}\n${Buffer.from(body).toString('base64')}`,
  );

  const claim: IdempotencyClaim = { userId, key, requestId, leaseSeconds };
  if (claimsInCommit.has(matchedRoutes(c).at(-1)?.path ?? '')) {
    claim.inCommit = { requestHash, claimed: false };
  } else {
    const [claimed] = await claimKey(db).execute({ userId, key, requestHash, requestId, leaseSeconds });
    if (!claimed) {
      const replay = await answerRepeat(db, { userId, key, requestHash, requestId, leaseSeconds });
      if (replay) return replay;
    }
  }
  const holds = () => !claim.inCommit || claim.inCommit.claimed;

  // Renewed while the request runs, so a slow request is not mistaken for an abandoned one.
  const stopRenewal = keepClaim(
    db,
    { userId, key, requestId, leaseSeconds },
    ({ message, error }) => c.var.logger.warn(error ? { err: error } : {}, message),
    holds,
  );
  try {
    // The claim goes with the request to every change it makes: each checks, in its own
    // transaction, that the request still holds it (the fence of ADR 19).
    await currentClaim.run(claim, () => next());
  } finally {
    stopRenewal();
    if (holds()) await settle(db, { userId, key, requestId }, c.req.path, c.res);
  }
  // Claimed in the change's commit, and found taken there: a repeat after all.
  if (c.error instanceof IdempotencyKeyTaken) {
    const replay = await answerRepeat(db, { userId, key, requestHash, requestId, leaseSeconds });
    // Abandoned between that statement and this look: the client may send it again.
    if (!replay) throw new AppError('CONFLICT', 'Retry the request');
    c.error = undefined;
    c.res = replay;
  }
});

/**
 * The answer to a request whose key is taken: the stored response, or a refusal — or
 * null when it took over an abandoned claim and should run.
 */
async function answerRepeat(
  db: Db,
  claim: { userId: string; key: string; requestHash: string; requestId: string; leaseSeconds: number },
): Promise<Response | null> {
  const repeated = await answerRepeatedKey(db, claim);
  if (repeated.kind === 'taken-over') return null;
  if (repeated.kind === 'running') {
    throw new AppError('CONFLICT', 'A request with this Idempotency-Key is still in progress');
  }
  if (repeated.body === null) {
    throw new AppError('CONFLICT', 'The request with this Idempotency-Key succeeded; its secrets were shown only once');
  }
  return new Response(repeated.body, {
    status: repeated.status,
    headers: { 'content-type': repeated.contentType ?? 'application/json', 'idempotent-replayed': 'true' },
  });
}

/**
 * Responses that carry a secret shown only once (an offer's link, a new API token, a
 * webhook's signing secret at creation and rotation): their bodies are not kept, and a
 * repeat is told the first succeeded. A staff invitation's answer holds no secret (the link
 * goes by email), so its repeat gets the stored 202 and sends nothing.
 */
const secretResponsePaths = [
  /^\/v1\/offers$/,
  /^\/v1\/tokens$/,
  /^\/v1\/webhooks$/,
  /^\/v1\/webhooks\/[^/]+\/rotate-secret$/,
];
const isSecretResponse = (path: string) => secretResponsePaths.some((pattern) => pattern.test(path));

async function settle(
  db: Db,
  claim: { userId: string; key: string; requestId: string },
  path: string,
  response: Response | undefined,
): Promise<void> {
  if (response && response.status >= 200 && response.status < 300) {
    const body = isSecretResponse(path) ? null : await response.clone().text();
    await storeResponse(db).execute({
      ...claim,
      status: response.status,
      contentType: response.headers.get('content-type'),
      body,
    });
  } else {
    // Freed only if the request took no effect; otherwise its claim stays, judged at once.
    const released = await releaseKey(db).execute(claim);
    if (released.count === 0) await endClaim(db).execute(claim);
  }
}
