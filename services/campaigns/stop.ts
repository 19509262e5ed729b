import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { campaigns, delegations } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/record.ts';
import { applyTransitionToMany, systemActor } from '../delegations/transitions.ts';

/**
 * Stops the rest of a campaign whose requester may no longer send it
 * (core/partner-permissions.ts `campaignStopReason`): every recipient still waiting for
 * the email (`invited`) is withdrawn (`terminate`) with the reason, which the campaign's
 * recipients show, and the stop is one `campaign.stop` event in the partner's trail — by
 * the system, naming the requester. The campaign row is locked first, so two workers that
 * find it at once stop it one after the other and the second finds nothing left: one
 * audit event. Recipients already sent to are left alone: their offer stands until the
 * client answers, as when an offer's sender leaves. Returns how many were withdrawn.
 */
export async function stopCampaign(
  db: Db,
  stop: { campaignId: string; partnerId: string; requestedBy: string; reason: string },
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.id, stop.campaignId)).for('update');
    const withdrawn = await applyTransitionToMany(tx, {
      where: eq(delegations.campaignId, stop.campaignId),
      from: ['invited'],
      event: 'terminate',
      actor: systemActor,
      set: { endedAt: sql`now()`, failureReason: stop.reason, sendLeaseUntil: null },
      detail: { reason: 'campaign stopped', why: stop.reason, requestedBy: stop.requestedBy },
    });
    if (withdrawn.length > 0) {
      await recordAudit(tx, {
        actorUserId: null,
        partnerId: stop.partnerId,
        orgId: stop.partnerId,
        action: 'campaign.stop',
        targetType: 'campaign',
        targetId: stop.campaignId,
        outcome: 'succeeded',
        detail: { reason: stop.reason, requestedBy: stop.requestedBy, withdrawn: withdrawn.length },
      });
    }
    return withdrawn.length;
  });
}
