import { and, count, eq, inArray, isNull, notInArray, or, type SQL, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { permanentSendFailureReasons } from '../../core/send-failures.ts';
import type { Db } from '../../db/client.ts';
import { campaigns, delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import { applyTransitionToMany } from '../delegations/transitions.ts';
import { assertCanSendOffers, assertOfferOpen, getOwnOffer } from '../offers/offers.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { chunkWaitingRecipients, enqueueChunks } from './chunks.ts';

/** Most recipients one request names; "all failed" has no limit. */
export const MAX_RETRY_IDS = 1000;

/** A failed send a mail server refused for good (core/send-failures.ts). */
const permanentFailure = inArray(delegations.failureReason, permanentSendFailureReasons);
const temporaryFailure = or(
  isNull(delegations.failureReason),
  notInArray(delegations.failureReason, permanentSendFailureReasons),
) as SQL;

/** Failed sends of the campaign: not failures of a grant after an acceptance, which are not sends. */
const failedSendsOf = (campaignId: string) =>
  and(eq(delegations.campaignId, campaignId), eq(delegations.state, 'failed'), isNull(delegations.acceptedAt));

export interface RetryOptions {
  /** Only these recipients (their delegation ids) of the failed ones; all if left out. */
  delegationIds?: string[] | undefined;
  /**
   * Also the recipients a mail server refused for good (a 5xx to their address, a bounce):
   * left out unless asked, since the same email fails the same way until someone fixes the
   * address. Default false.
   */
  includePermanent?: boolean | undefined;
}

export interface RetryResult {
  retried: number;
  /** Failed recipients left alone because a mail server refused them for good (without `includePermanent`). */
  skippedPermanent: number;
}

/**
 * Sends the offer again to recipients whose email failed for good (`failed` after a
 * 5xx, a bounce or the last retry): `failed → invited` through the state machine's
 * `retry_send`, with the send counters cleared, in new chunks of the campaign with a token
 * each. Without ids, every failed recipient of the campaign; with ids, those of them. Those
 * a mail server refused for good are left out unless `includePermanent` (and counted).
 * Delegations that failed after an acceptance are not sends and are left alone, as are
 * recipients in any other state — retrying twice retries once. The offer must still be open.
 *
 * If the queue is unreachable the rows are already `invited`: the reconciler sends them.
 */
export async function retryFailedSends(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  principal: PartnerPrincipal,
  campaignId: string,
  options: RetryOptions = {},
  requestId?: string,
): Promise<RetryResult> {
  assertCanSendOffers(principal);
  requireId('campaign', campaignId, 'campaign');
  const { delegationIds, includePermanent = false } = options;
  for (const id of delegationIds ?? []) requireId('delegation', id, 'delegationIds');
  const moved = await deps.db.transaction(async (tx) => {
    const [campaign] = await tx
      .select({ offerId: campaigns.offerId })
      .from(campaigns)
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.partnerId, principal.partnerId)));
    if (!campaign) throw new AppError('NOT_FOUND', 'No such campaign');
    assertOfferOpen(await getOwnOffer(tx, principal.partnerId, campaign.offerId, { lock: 'share' }));
    const named = delegationIds ? inArray(delegations.id, delegationIds) : undefined;
    let skippedPermanent = 0;
    if (!includePermanent) {
      const [skipped] = await tx
        .select({ n: count() })
        .from(delegations)
        .where(and(failedSendsOf(campaignId), named, permanentFailure));
      skippedPermanent = skipped?.n ?? 0;
    }
    const ids = await applyTransitionToMany(tx, {
      where: and(
        eq(delegations.campaignId, campaignId),
        isNull(delegations.acceptedAt),
        named,
        includePermanent ? undefined : temporaryFailure,
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
        detail: {
          retried: ids.length,
          includePermanent,
          skippedPermanent,
          ...(delegationIds ? { delegationIds } : {}),
        },
      });
    }
    return { ids, chunks, skippedPermanent };
  });
  await enqueueChunks(deps, campaignId, moved.chunks);
  deps.logger.info(
    { campaignId, retried: moved.ids.length, skippedPermanent: moved.skippedPermanent },
    'failed recipients retried',
  );
  return { retried: moved.ids.length, skippedPermanent: moved.skippedPermanent };
}

/** A campaign's failed sends, as a retry would see them: those a mail server refused for good, and the others. */
export async function countFailedSends(
  db: Db,
  principal: PartnerPrincipal,
  campaignId: string,
): Promise<{ permanent: number; temporary: number }> {
  assertSeesPartnerData(principal);
  requireId('campaign', campaignId, 'campaign');
  const [row] = await db
    .select({
      permanent: sql<number>`count(*) filter (where ${permanentFailure})::int`,
      temporary: sql<number>`count(*) filter (where ${temporaryFailure})::int`,
    })
    .from(delegations)
    .innerJoin(campaigns, eq(campaigns.id, delegations.campaignId))
    .where(and(failedSendsOf(campaignId), eq(campaigns.partnerId, principal.partnerId)));
  return { permanent: row?.permanent ?? 0, temporary: row?.temporary ?? 0 };
}
