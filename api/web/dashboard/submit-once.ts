import type { Context } from 'hono';
import { randomToken, sha256Hex } from '../../../lib/secrets.ts';
import {
  currentClaim,
  type IdempotencyClaim,
  IdempotencyKeyTaken,
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
 * double click, a reload that posts again) is not a second operation. The key is claimed
 * in the change's own commit, as the API's Idempotency-Key on the operation routes
 * (services/operations/requests.ts `recordOperation`), so the two cannot disagree; the
 * page a first submit went on to is kept, and a repeat goes there too (`repeated`).
 * Without a key (a form rendered before keys) the change runs as is.
 */
export async function submitOnce(
  c: Context<AppEnv>,
  submitted: unknown,
  change: () => Promise<string>,
): Promise<{ location: string; repeated: boolean }> {
  if (typeof submitted !== 'string' || !shape.test(submitted)) return { location: await change(), repeated: false };
  const { db, config } = c.var.deps;
  const userId = c.var.principal.userId;
  const key = `form:${submitted}`;
  const requestHash = sha256Hex(`POST ${c.req.path}\n${key}`);
  const claim: IdempotencyClaim = {
    userId,
    key,
    requestId: c.var.requestId,
    leaseSeconds: config.idempotencyLeaseSeconds,
    inCommit: { requestHash, claimed: false },
  };
  try {
    const location = await currentClaim.run(claim, change);
    await storeResponse(db).execute({
      userId,
      key,
      requestId: c.var.requestId,
      status: 303,
      contentType: 'text/uri-list',
      body: location,
    });
    return { location, repeated: false };
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTaken)) throw error;
    const [stored] = await storedKey(db).execute({ userId, key });
    const location = stored?.requestHash === requestHash && stored.body ? stored.body : null;
    return { location: location ?? c.req.path, repeated: true };
  }
}
