import { eq, sql } from 'drizzle-orm';
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

/**
 * Records that this session passed a second factor now: for STEP_UP_MINUTES
 * (core/second-factor.ts) it may make the sensitive changes that need one. Audited.
 * For any second factor — a code here, a passkey where one is checked.
 */
export async function markSecondFactorPassed(
  db: DbOrTx,
  owner: SessionOwner,
  input: { method: string; requestId?: string | undefined },
): Promise<void> {
  await db.update(sessions).set({ secondFactorAt: sql`now()` }).where(eq(sessions.id, owner.sessionId));
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
