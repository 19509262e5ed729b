import { and, asc, eq, gt } from 'drizzle-orm';
import { delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';

/** Jobs added per round trip to the queue. */
const CHUNK = 1000;

/**
 * Enqueues the send-offer job of every recipient of a campaign still waiting for its
 * email, in chunks, walking the delegations by id. Safe to run again at any time:
 * job ids are deterministic and the send handler skips delegations already sent.
 */
export async function dispatchCampaign(deps: Pick<Deps, 'db' | 'queues'>, campaignId: string): Promise<number> {
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
    );
    enqueued += rows.length;
    after = (rows.at(-1) as { id: string }).id;
  }
}
