import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { sessions } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import {
  checkSecondFactor,
  recordOwnAudit,
  type SecondFactorResult,
  withSecondFactorAttempt,
} from './second-factor.ts';
import type { SessionOwner } from './sessions.ts';

/** What a session's step-up was passed with, recorded in its audit row (`with`). */
export type StepUpMethod = 'totp' | 'recovery_code' | 'passkey';

/**
 * Records that this session passed a second factor now: for STEP_UP_MINUTES
 * (core/second-factor.ts) it may make the sensitive changes that need one. Audited
 * (`session.step_up`, `with` the method), after the audit row of the check itself. Every
 * step-up goes through here: a code ({@link confirmWithCode}) or a passkey
 * (services/accounts/passkey-sign-in.ts). Only the owner's own session is marked; when it
 * is gone (ended meanwhile), nothing is marked or recorded.
 */
export async function markSecondFactorPassed(
  db: DbOrTx,
  owner: SessionOwner,
  input: { method: StepUpMethod; requestId?: string | undefined },
): Promise<void> {
  const marked = await db
    .update(sessions)
    .set({ secondFactorAt: sql`now()` })
    .where(and(eq(sessions.id, owner.sessionId), eq(sessions.userId, owner.userId)))
    .returning({ id: sessions.id });
  if (marked.length === 0) return;
  await recordOwnAudit(db, owner.userId, {
    action: 'session.step_up',
    outcome: 'succeeded',
    requestId: input.requestId,
    detail: { with: input.method },
  });
}

/**
 * A step-up with a code from the authenticator app or a recovery code, checked as at
 * sign-in (limited, spent once, audited either way): right, and the session counts as
 * having passed a second factor now.
 */
export async function confirmWithCode(
  deps: Pick<Deps, 'db' | 'config' | 'rateLimits'>,
  owner: SessionOwner,
  input: { code: string; clientAddress: string; requestId?: string | undefined },
): Promise<SecondFactorResult> {
  const attempt = {
    userId: owner.userId,
    code: input.code,
    purpose: 'step_up' as const,
    requestId: input.requestId,
    clientAddress: input.clientAddress,
  };
  return withSecondFactorAttempt(deps, attempt, () =>
    deps.db.transaction(async (tx): Promise<SecondFactorResult> => {
      const result = await checkSecondFactor(deps, tx, attempt);
      if (result.ok) await markSecondFactorPassed(tx, owner, { method: result.method, requestId: input.requestId });
      return result;
    }),
  );
}
