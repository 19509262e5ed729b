import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { campaigns, delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import { applyTransitionToMany } from '../delegations/transitions.ts';
import { assertCanSendOffers, assertOfferOpen, getOwnOffer } from '../offers/offers.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { chunkWaitingRecipients, enqueueChunks } from './chunks.ts';

/** Most recipients one request names; "all failed" has no limit. */
export const MAX_RETRY_IDS = 1000;

/**
 * Sends the offer again to recipients whose email failed for good (`failed` after a
 * 5xx or the last retry): `failed → invited` through the state machine's `retry_send`,
 * with the send counters cleared, in new chunks of the campaign with a token each. Without ids, every
 * failed recipient of the campaign; with ids, those of them. Delegations that failed
 * after an acceptance are not sends and are left alone, as are recipients in any other
 * state — retrying twice retries once. The offer must still be open.
 *
 * If the queue is unreachable the rows are already `invited`: the reconciler sends them.
 */
export async function retryFailedSends(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  principal: PartnerPrincipal,
  campaignId: string,
  delegationIds?: string[],
  requestId?: string,
): Promise<{ retried: number }> {
  assertCanSendOffers(principal);
  requireId('campaign', campaignId, 'campaign');
  for (const id of delegationIds ?? []) requireId('delegation', id, 'delegationIds');
  const moved = await deps.db.transaction(async (tx) => {
    const [campaign] = await tx
      .select({ offerId: campaigns.offerId })
      .from(campaigns)
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.partnerId, principal.partnerId)));
    if (!campaign) throw new AppError('NOT_FOUND', 'No such campaign');
    assertOfferOpen(await getOwnOffer(tx, principal.partnerId, campaign.offerId, { lock: 'share' }));
    const ids = await applyTransitionToMany(tx, {
      where: and(
        eq(delegations.campaignId, campaignId),
        isNull(delegations.acceptedAt),
        delegationIds ? inArray(delegations.id, delegationIds) : undefined,
      ) as SQL,
      from: ['failed'],
      event: 'retry_send',
      actor: { type: 'partner_user', id: principal.userId },
      // send_attempts stays as it is: it fences the send's outcome (a late result of an
      // earlier attempt must not count for the new one), and uncertain_sends keeps ADR 5's
      // "resend at most once" honest across retries. MAIL_ATTEMPTS counts again from here
      // (send_attempts_base), and the interruptions start over.
      // Out of the chunk they were sent in (which is done): into new chunks, below.
      set: {
        sendLeaseUntil: null,
        sendInDoubt: false,
        smtpReply: null,
        failureReason: null,
        sendChunk: null,
        sendAttemptsBase: sql`${delegations.sendAttempts}`,
        sendInterruptions: 0,
      },
    });
    const chunks = await chunkWaitingRecipients(tx, deps.config, campaignId);
    if (ids.length > 0) {
      await recordAudit(tx, {
        actorUserId: principal.userId,
        partnerId: principal.partnerId,
        orgId: principal.partnerId,
        action: 'campaign.retry_failed',
        targetType: 'campaign',
        targetId: campaignId,
        outcome: 'succeeded',
        requestId,
        detail: { retried: ids.length, ...(delegationIds ? { delegationIds } : {}) },
      });
    }
    return { ids, chunks };
  });
  await enqueueChunks(deps, campaignId, moved.chunks);
  deps.logger.info({ campaignId, retried: moved.ids.length }, 'failed recipients retried');
  return { retried: moved.ids.length };
}
