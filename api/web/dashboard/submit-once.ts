import type { Context } from 'hono';
import { AppError, isAppError } from '../../../core/errors.ts';
import { randomToken, sha256Hex } from '../../../lib/secrets.ts';
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
} from '../../../services/shared/idempotency-keys.ts';
import type { AppEnv } from '../../env.ts';

/** The hidden field naming one submission of a form. */
export const SUBMISSION_FIELD = 'submission';

/** A new submission key for a form being rendered. */
export const newSubmission = () => randomToken(16);

const shape = /^[A-Za-z0-9_-]{16,64}$/;

/** How long a repeat waits for the first submission of its form to finish, and how often it looks. */
const WAIT_FOR_FIRST_MS = 10_000;
const POLL_MS = 100;

/**
 * Runs a form's change once per submission key: a second submit of the same form (a
 * double click, a reload that posts again) is not a second change. Operation forms
 * (`inCommit`) claim the key in the operation's own commit, as the API's Idempotency-Key
 * does on the operation routes (services/operations/requests.ts `recordOperation`); other
 * changes claim it first, renew it while they run, and free it when they fail without
 * effect, as the API's middleware does. The page a first submit went on to is kept, and a
 * repeat goes there too (`repeated`) — once the first has finished, if it is still running
 * (a double click's second request arrives while the first works).
 * Without a key (a form rendered before keys) the change runs as is.
 */
export async function submitOnce(
  c: Context<AppEnv>,
  submitted: unknown,
  change: () => Promise<string>,
  options: { inCommit: boolean } = { inCommit: true },
): Promise<{ location: string; repeated: boolean }> {
  if (typeof submitted !== 'string' || !shape.test(submitted)) return { location: await change(), repeated: false };
  const { db, config } = c.var.deps;
  const userId = c.var.principal.userId;
  const requestId = c.var.requestId;
  const key = `form:${submitted}`;
  const requestHash = sha256Hex(`POST ${c.req.path}\n${key}`);
  const leaseSeconds = config.idempotencyLeaseSeconds;
  const claim: IdempotencyClaim = {
    userId,
    key,
    requestId,
    leaseSeconds,
    ...(options.inCommit ? { inCommit: { requestHash, claimed: false } } : {}),
  };
  const repeat = async (): Promise<{ location: string; repeated: true } | null> => {
    const location = await firstSubmissionsPage(c, { userId, key, requestHash, requestId, leaseSeconds });
    return location === null ? null : { location, repeated: true };
  };
  if (!options.inCommit) {
    const [claimed] = await claimKey(db).execute({ userId, key, requestHash, requestId, leaseSeconds });
    // Not claimed, and the first submission did not give up its claim unused: a repeat.
    const repeated = claimed ? null : await repeat();
    if (repeated) return repeated;
  }
  const stopRenewal = options.inCommit
    ? () => {}
    : keepClaim(db, claim, ({ message, error }) => c.var.logger.warn(error ? { err: error } : {}, message));
  let location: string;
  try {
    location = await currentClaim.run(claim, change);
  } catch (error) {
    if (error instanceof IdempotencyKeyTaken) {
      const repeated = await repeat();
      if (repeated) return repeated;
      // The first gave its claim up unused just now, and this request took it over after its
      // own change had already stood back: free it, so that sending the form again runs it.
      await releaseKey(db).execute({ userId, key, requestId });
      throw new AppError('CONFLICT', 'This form could not be sent just now: send it again.');
    }
    // Claimed first, or claimed in a commit that then refused (an address already in use:
    // the claim commits with the refusal) — freed only if the change took no effect;
    // otherwise its claim stays, judged at once.
    if (!options.inCommit || claim.inCommit?.claimed) {
      const released = await releaseKey(db).execute({ userId, key, requestId });
      if (released.count === 0) await endClaim(db).execute({ userId, key, requestId });
    }
    throw error;
  } finally {
    stopRenewal();
  }
  await storeResponse(db).execute({
    userId,
    key,
    requestId,
    status: 303,
    contentType: 'text/uri-list',
    body: location,
  });
  return { location, repeated: false };
}

/**
 * The page the first submission of a form went on to, waiting while it still runs; null
 * when it gave up its claim without effect and this submission took the claim over (it
 * runs the change itself). Refused in words for a key another form used, or a first
 * submission that took effect and lost its answer.
 */
async function firstSubmissionsPage(
  c: Context<AppEnv>,
  repeat: { userId: string; key: string; requestHash: string; requestId: string; leaseSeconds: number },
): Promise<string | null> {
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    let answer: Awaited<ReturnType<typeof answerRepeatedKey>>;
    try {
      answer = await answerRepeatedKey(c.var.deps.db, repeat);
    } catch (error) {
      if (isAppError(error, 'IDEMPOTENCY_KEY_REUSED')) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This form was sent from another page: reload the page and send it again.',
        );
      }
      if (isAppError(error, 'IDEMPOTENT_RESPONSE_LOST')) {
        throw new AppError(
          'IDEMPOTENT_RESPONSE_LOST',
          'This form was already sent and took effect, but its answer was lost: open the page again to see the result instead of sending it again.',
        );
      }
      throw error;
    }
    if (answer.kind === 'taken-over') return null;
    if (answer.kind === 'stored' && answer.body) return answer.body;
    if (answer.kind === 'stored' || Date.now() > deadline) {
      throw new AppError('CONFLICT', 'This form is still being sent: wait a moment, then open the page again.');
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
