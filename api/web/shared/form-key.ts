import type { Context } from 'hono';
import { AppError, isAppError } from '../../../core/errors.ts';
import { randomToken, sha256Hex } from '../../../lib/secrets.ts';
import {
  answerRepeatedKey,
  claimKey,
  currentClaim,
  endClaim,
  keepClaim,
  releaseKey,
  storeResponse,
} from '../../../services/shared/idempotency-keys.ts';
import type { AppEnv } from '../../env.ts';

/** The hidden field that carries a form's key. */
export const FORM_KEY_FIELD = 'formKey';

const keyShape = /^[A-Za-z0-9_-]{22,64}$/;

/** A key for one rendering of a form (128 random bits): each page load gets a new one. */
export const newFormKey = () => randomToken(16);

/** How long a repeat waits for the first submission of its form to finish, and how often it looks. */
const WAIT_FOR_FIRST_MS = 10_000;
const POLL_MS = 100;

type Claim = { userId: string; key: string; requestId: string; leaseSeconds: number; requestHash: string };

/** What a form submission is, for telling a repeat from another submission under the same key. */
function submissionHash(c: Context<AppEnv>, form: Record<string, string>): string {
  const fields = Object.entries(form)
    .filter(([name]) => name !== 'csrf' && name !== FORM_KEY_FIELD)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Hex(`form ${c.req.method} ${c.req.path}\n${JSON.stringify(fields)}`);
}

/**
 * Runs a form's change at most once per form key — the hidden `formKey` field each rendering
 * of the form gets ({@link newFormKey}) — and answers with a redirect (303) to the location
 * `run` returns. A second submission with the same key (a double click, a reload of the
 * answer to the POST) changes nothing: it gets the first one's redirect, after waiting for the
 * first to finish if it is still running. Kept in the API's store of Idempotency-Keys
 * (services/shared/idempotency-keys.ts) as `form.<key>` of the signed-in user, with the
 * same claim, lease, fence (the change's audit row checks the claim in its transaction) and
 * settlement: a submission that fails frees its key unless it took effect, so the same form
 * can be sent again. A form without a key is refused when `required`, else run as it is
 * (a page loaded before its form had one).
 */
export async function submitOnce(
  c: Context<AppEnv>,
  form: Record<string, string>,
  run: () => Promise<string>,
  options: { required: boolean },
): Promise<Response> {
  const formKey = form[FORM_KEY_FIELD];
  if (formKey === undefined && !options.required) return c.redirect(await run(), 303);
  if (formKey === undefined || !keyShape.test(formKey)) {
    throw new AppError('VALIDATION_FAILED', 'This form is incomplete: reload the page and send it again.', {
      issues: [{ path: FORM_KEY_FIELD, message: 'missing or malformed' }],
    });
  }
  const userId = c.var.principal?.userId ?? c.var.viewer?.userId;
  if (!userId) throw new AppError('UNAUTHENTICATED', 'Please sign in');
  const { db, config } = c.var.deps;
  // A type alias, not the interface: the prepared statements take plain records.
  const claim: Claim = {
    userId,
    key: `form.${formKey}`,
    requestId: c.var.requestId,
    leaseSeconds: config.idempotencyLeaseSeconds,
    requestHash: submissionHash(c, form),
  };

  const [claimed] = await claimKey(db).execute(claim);
  if (!claimed) {
    const location = await firstSubmissionsAnswer(claim);
    if (location !== null) return c.redirect(location, 303);
  }
  const stopRenewal = keepClaim(db, claim, ({ message, error }) =>
    c.var.logger.warn(error ? { err: error } : {}, message),
  );
  let location: string;
  try {
    location = await currentClaim.run(claim, run);
  } catch (error) {
    stopRenewal();
    // Freed only if the submission took no effect; otherwise its claim stays, judged at once.
    const released = await releaseKey(db).execute(claim);
    if (released.count === 0) await endClaim(db).execute(claim);
    throw error;
  }
  stopRenewal();
  await storeResponse(db).execute({ ...claim, status: 303, contentType: null, body: location });
  return c.redirect(location, 303);

  /** The first submission's redirect, waiting while it runs; null when it was abandoned and this one took over. */
  async function firstSubmissionsAnswer(repeat: typeof claim): Promise<string | null> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      let answer: Awaited<ReturnType<typeof answerRepeatedKey>>;
      try {
        answer = await answerRepeatedKey(db, repeat);
      } catch (error) {
        if (isAppError(error, 'IDEMPOTENCY_KEY_REUSED')) {
          throw new AppError(
            'IDEMPOTENCY_KEY_REUSED',
            'This form was already sent, with other values. Reload the page to send it again.',
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
      if (answer.kind === 'stored' && answer.body !== null) return answer.body;
      if (answer.kind === 'stored' || Date.now() > deadline) {
        throw new AppError('CONFLICT', 'This form is still being sent: wait a moment, then open the page again.');
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
