import { sql } from 'drizzle-orm';
import { amendments, delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { notifyAmendmentExpired } from '../mail/amendment-notifications.ts';
import { notifyContext } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { moveAmendments } from './amendment-transitions.ts';
import { systemActor } from './transitions.ts';

/**
 * The lifecycle's pass over pending amendments, by the database clock: those whose answer
 * time has passed expire (the partner's owners are told; nothing changes), and those whose
 * delegation is no longer active (ended or expired) are cancelled. Guarded
 * set-based updates: a second run, or another worker, moves nothing more.
 */
export async function sweepAmendments(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
): Promise<{ expired: number; cancelled: number }> {
  const ctx = notifyContext(deps.config);
  // Run after the lifecycle's own steps: a delegation past its end is expired or
  // auto-extended by then, so its state alone says whether it is still active.
  const notActive = sql`not exists (select 1 from ${delegations} d
                                    where d.id = ${amendments.delegationId} and d.state = 'active')`;
  const cancelled = await moveAmendments(deps.db, notActive, 'pending', { event: 'cancel', actor: systemActor });

  const expired = await deps.db.transaction(async (tx) => {
    const moved = await moveAmendments(tx, sql`${amendments.expiresAt} <= now()`, 'pending', {
      event: 'expire',
      actor: systemActor,
    });
    const emailIds: string[] = [];
    for (const a of moved) emailIds.push(...(await notifyAmendmentExpired(tx, ctx, a)));
    return { count: moved.length, emailIds };
  });
  await enqueueEmails(deps, expired.emailIds, { background: true });
  return { expired: expired.count, cancelled: cancelled.length };
}
