import { eq, sql } from 'drizzle-orm';
import { delegations, operations } from '../db/schema/index.ts';
import type { Deps } from '../lib/deps.ts';
import { resumeCampaigns } from './campaign-dispatch.ts';
import { resumeEmails } from './emails.ts';
import { jobForKind } from './operations/kinds.ts';

/**
 * Re-enqueues work that PostgreSQL says is unfinished — campaigns with recipients still
 * `invited`, acceptances still `accepting`, emails still `pending`, operations queued or
 * abandoned mid-run — in case it was
 * recorded while Redis was unreachable or Redis lost it. Deterministic job ids make
 * this harmless when nothing is missing. Run when workers start.
 */
export async function resumeUnfinishedWork(deps: Pick<Deps, 'db' | 'queues' | 'logger'>) {
  const campaigns = await resumeCampaigns(deps);
  const accepting = await deps.db
    .select({ id: delegations.id })
    .from(delegations)
    .where(eq(delegations.state, 'accepting'));
  for (const { id } of accepting) {
    await deps.queues.enqueue('process-acceptance', { delegationId: id }, { replaceFinished: true });
  }
  const emails = await resumeEmails(deps);
  const unfinished = await deps.db
    .select({ id: operations.id, kind: operations.kind })
    .from(operations)
    .where(
      sql`${operations.state} = 'queued' or (${operations.state} = 'running' and ${operations.leaseUntil} < now())`,
    );
  for (const { id, kind } of unfinished) {
    await deps.queues.enqueue(jobForKind[kind], { operationId: id }, { replaceFinished: true });
  }
  return { campaigns, acceptances: accepting.length, emails, operations: unfinished.length };
}
