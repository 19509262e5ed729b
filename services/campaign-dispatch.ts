import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { delegations } from '../db/schema/index.ts';
import type { Deps } from '../lib/deps.ts';
import type { EnqueueOptions } from '../workers/queues.ts';

/** Jobs added per round trip to the queue. */
const CHUNK = 1000;

/**
 * Enqueues the send-offer job of every recipient of a campaign still waiting for its
 * email, in chunks, walking the delegations by id. Safe to run again at any time:
 * job ids are deterministic and the send handler skips delegations already sent. On a
 * resume, finished jobs of still-invited delegations are replaced so they run again.
 */
export async function dispatchCampaign(
  deps: Pick<Deps, 'db' | 'queues'>,
  campaignId: string,
  options: EnqueueOptions = {},
): Promise<number> {
  let after = '';
  let enqueued = 0;
  for (;;) {
    const rows = await deps.db
      .select({ id: delegations.id })
      .from(delegations)
      .where(and(eq(delegations.campaignId, campaignId), eq(delegations.state, 'invited'), gt(delegations.id, after)))
      .orderBy(asc(delegations.id))
      .limit(CHUNK);
    if (rows.length === 0) return enqueued;
    await deps.queues.enqueueBulk(
      'send-offer',
      rows.map((r) => ({ delegationId: r.id })),
      options,
    );
    enqueued += rows.length;
    after = (rows.at(-1) as { id: string }).id;
  }
}

/**
 * Enqueues the fan-out of every campaign that still has recipients waiting for their
 * email. Run when workers start, so a campaign recorded while Redis was unreachable (or
 * after Redis lost its data) is not left behind. Harmless when nothing is missing: job
 * ids are deterministic. Returns how many campaigns were (re)dispatched.
 */
export async function resumeCampaigns(deps: Pick<Deps, 'db' | 'queues'>): Promise<number> {
  const rows = await deps.db.execute<{ id: string }>(sql`
    select c.id from campaigns c
    where exists (select 1 from delegations d where d.campaign_id = c.id and d.state = 'invited')`);
  for (const { id } of rows) {
    await deps.queues.enqueue('dispatch-campaign', { campaignId: id, resume: true }, { replaceFinished: true });
  }
  return rows.length;
}
