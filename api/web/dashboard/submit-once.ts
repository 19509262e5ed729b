import type { Context } from 'hono';
import { randomToken, sha256Hex } from '../../../lib/secrets.ts';
import {
  claimKey,
  currentClaim,
  type IdempotencyClaim,
  IdempotencyKeyTaken,
  releaseKey,
  storedKey,
  storeResponse,
} from '../../../services/shared/idempotency-keys.ts';
import type { AppEnv } from '../../env.ts';

/** The hidden field naming one submission of a form. */
export const SUBMISSION_FIELD = 'submission';

/** A new submission key for a form being rendered. */
export const newSubmission = () => randomToken(16);

const shape = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Runs a form's change once per submission key: a second submit of the same form (a
 * double click, a reload that posts again) is not a second change. Operation forms
 * (`inCommit`) claim the key in the operation's own commit, as the API's Idempotency-Key
 * does on the operation routes (services/operations/requests.ts `recordOperation`); other
 * changes claim it first and free it when they fail, as the API's middleware does. The
 * page a first submit went on to is kept, and a repeat goes there too (`repeated`).
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
  const repeat = async () => {
    const [stored] = await storedKey(db).execute({ userId, key });
    const location = stored?.requestHash === requestHash && stored.body ? stored.body : null;
    return { location: location ?? c.req.path, repeated: true };
  };
  const claim: IdempotencyClaim = {
    userId,
    key,
    requestId,
    leaseSeconds,
    ...(options.inCommit ? { inCommit: { requestHash, claimed: false } } : {}),
  };
  if (!options.inCommit) {
    const [claimed] = await claimKey(db).execute({ userId, key, requestHash, requestId, leaseSeconds });
    if (!claimed) return repeat();
  }
  let location: string;
  try {
    location = await currentClaim.run(claim, change);
  } catch (error) {
    if (error instanceof IdempotencyKeyTaken) return repeat();
    if (!options.inCommit) await releaseKey(db).execute({ userId, key, requestId });
    throw error;
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
