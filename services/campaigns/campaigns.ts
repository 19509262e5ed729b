import { and, asc, count, desc, eq, getTableColumns, gt, lt, sql } from 'drizzle-orm';
import { defaultCampaignName, firstFreeName } from '../../core/campaign-names.ts';
import { type DelegationState, delegationStates } from '../../core/delegation-machine.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import type { ExportedRecipient } from '../../core/recipient-export.ts';
import { MAX_RECIPIENTS, type RawRecipient, type RejectedRecipient, screenRecipients } from '../../core/recipients.ts';
import type { Db, Tx } from '../../db/client.ts';
import { campaigns, delegations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { recordAudit } from '../audit/record.ts';
import { assertCanSendOffers, assertOfferOpen, getOwnOffer } from '../offers/offers.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { enqueueChunks, linkTokenHash, recordChunks } from './chunks.ts';
import { assertWithinDailySendLimit, lockCampaignCreation } from './daily-send-limit.ts';

export interface CreateCampaignInput {
  offerId: string;
  name?: string | undefined;
  recipients: RawRecipient[];
}

export interface CreatedCampaign {
  id: string;
  total: number;
  rejected: RejectedRecipient[];
}

/**
 * The default name of a new campaign of the partner (core/campaign-names.ts), not taken by
 * any of its campaigns: read under the partner's creation lock, so two campaigns created at
 * once get two names.
 */
async function freeDefaultName(tx: Tx, partnerId: string, offerName: string): Promise<string> {
  await lockCampaignCreation(tx, partnerId);
  const base = defaultCampaignName(offerName, new Date());
  const taken = await tx
    .select({ name: campaigns.name })
    .from(campaigns)
    .where(and(eq(campaigns.partnerId, partnerId), sql`starts_with(${campaigns.name}, ${base})`));
  return firstFreeName(base, new Set(taken.map((t) => t.name)));
}

/** A list a campaign can be made of: at least one row, at most MAX_RECIPIENTS (before screening). */
export function assertListSize(recipients: readonly RawRecipient[]): void {
  if (recipients.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'A campaign needs at least one recipient', {
      issues: [{ path: 'recipients', message: 'no recipients' }],
    });
  }
  if (recipients.length > MAX_RECIPIENTS) {
    throw new AppError('TOO_MANY_RECIPIENTS', `A campaign takes at most ${MAX_RECIPIENTS} recipients`, {
      details: { max: MAX_RECIPIENTS, received: recipients.length },
    });
  }
}

/**
 * Records a campaign and one `invited` delegation per valid recipient, then hands the
 * sending to the workers. Everything is written in one transaction (one statement for
 * all delegations) and the fan-out job is enqueued after commit, so the request
 * returns quickly whatever the size of the list. `options.recordedWith` writes what must
 * commit with the campaign or not at all (an upload marked sent), inside that transaction.
 */
export async function createCampaign(
  deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>,
  principal: PartnerPrincipal,
  input: CreateCampaignInput,
  requestId?: string,
  options: { recordedWith?: (tx: Tx, campaignId: string) => Promise<void> } = {},
): Promise<CreatedCampaign> {
  assertCanSendOffers(principal);
  assertListSize(input.recipients);
  const { accepted, rejected } = screenRecipients(input.recipients);
  if (accepted.length === 0) {
    throw new AppError(
      'NO_VALID_RECIPIENTS',
      `None of the ${rejected.length === 1 ? 'recipient' : `${rejected.length} recipients`} can be sent to; nothing was created`,
      { details: { rejected } },
    );
  }
  const campaignId = newId('campaign');
  const size = deps.config.campaignChunkSize;

  const chunks = await deps.db.transaction(async (tx) => {
    // Locked so that a concurrent revoke cannot slip between this check and the insert.
    const offer = await getOwnOffer(tx, principal.partnerId, input.offerId, { lock: 'share' });
    assertOfferOpen(offer);
    await assertWithinDailySendLimit(tx, deps.config, principal.partnerId, accepted.length);

    await tx.insert(campaigns).values({
      id: campaignId,
      partnerId: principal.partnerId,
      offerId: offer.id,
      name: input.name ?? (await freeDefaultName(tx, principal.partnerId, offer.name)),
      total: accepted.length,
      rejectedCount: rejected.length,
      rejected,
      createdBy: principal.userId,
    });

    if (accepted.length > 0) {
      // unnest() turns parallel arrays into rows: one round trip for any number of rows,
      // without the 65,535-parameter limit of a multi-row VALUES list. sql.param keeps
      // each array one parameter (a bare array would be spread into a list). No event
      // rows: creation is not a transition, and the campaign records who created them.
      // Each row comes with its chunk (in submission order) and its link token's hash, so
      // the send's claim writes neither (docs/adr/0027).
      const ids = accepted.map(() => newId('delegation'));
      await tx.execute(sql`
        insert into ${delegations} (id, partner_id, offer_id, campaign_id, recipient_email, recipient_name,
                                   recipient_company, state, roles, duration_days, auto_extend, send_chunk, token_hash)
        select r.id, ${principal.partnerId}, ${offer.id}, ${campaignId}, r.email, r.name, r.company, 'invited',
               ${sql.param(offer.roles)}::text[], ${offer.durationDays}, ${offer.autoExtend},
               ((r.n - 1) / ${size})::int, r.hash
        from unnest(${sql.param(ids)}::text[],
                    ${sql.param(accepted.map((r) => r.email))}::text[],
                    ${sql.param(accepted.map((r) => r.name))}::text[],
                    ${sql.param(accepted.map((r) => r.company))}::text[],
                    ${sql.param(ids.map((id) => linkTokenHash(deps.config.linkSecret, id)))}::text[])
             with ordinality as r(id, email, name, company, hash, n)`);
    }
    const recorded = await recordChunks(tx, {
      campaignId,
      partnerId: principal.partnerId,
      first: 0,
      recipients: accepted.length,
      size,
    });

    await options.recordedWith?.(tx, campaignId);
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'campaign.create',
      targetType: 'campaign',
      targetId: campaignId,
      outcome: 'succeeded',
      requestId,
      detail: { offerId: offer.id, total: accepted.length, rejected: rejected.length },
    });
    return recorded;
  });

  // One token per chunk, in one round trip. If the queue is unreachable the campaign is
  // safe in PostgreSQL: the failure is logged, the request still succeeds, and the
  // reconciler adds the tokens.
  await enqueueChunks(deps, campaignId, chunks);
  return { id: campaignId, total: accepted.length, rejected };
}

export type StateCounts = Record<DelegationState, number>;

export interface CampaignView {
  id: string;
  name: string;
  offerId: string;
  total: number;
  rejectedCount: number;
  counts: StateCounts;
  /** True once no recipient is waiting for its email (none is `invited`). */
  done: boolean;
  createdAt: string;
}

async function countByState(db: Db, campaignId: string): Promise<StateCounts> {
  const rows = await db
    .select({ state: delegations.state, n: count() })
    .from(delegations)
    .where(eq(delegations.campaignId, campaignId))
    .groupBy(delegations.state);
  const counts = Object.fromEntries(delegationStates.map((s) => [s, 0])) as StateCounts;
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** A campaign of this partner (without its rejected rows, which can be large), or NOT_FOUND. */
async function getOwnCampaign(db: Db, partnerId: string, campaignId: string) {
  requireId('campaign', campaignId, 'campaign');
  const { rejected: _rejected, ...columns } = getTableColumns(campaigns);
  const [row] = await db
    .select(columns)
    .from(campaigns)
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.partnerId, partnerId)));
  if (!row) throw new AppError('NOT_FOUND', 'No such campaign');
  return row;
}

export async function getCampaign(db: Db, principal: PartnerPrincipal, campaignId: string): Promise<CampaignView> {
  assertSeesPartnerData(principal);
  const campaign = await getOwnCampaign(db, principal.partnerId, campaignId);
  const counts = await countByState(db, campaignId);
  return {
    id: campaign.id,
    name: campaign.name,
    offerId: campaign.offerId,
    total: campaign.total,
    rejectedCount: campaign.rejectedCount,
    counts,
    done: counts.invited === 0,
    createdAt: campaign.createdAt.toISOString(),
  };
}

/** Rows refused when a campaign was created (row number, address as sent, reason), the first `limit` of them. */
export async function listRejectedRows(
  db: Db,
  principal: PartnerPrincipal,
  campaignId: string,
  limit: number,
): Promise<RejectedRecipient[]> {
  assertSeesPartnerData(principal);
  const campaign = await getOwnCampaign(db, principal.partnerId, campaignId);
  if (campaign.rejectedCount === 0) return [];
  // Cut in the database: a list of 100,000 bad rows is not shipped to show its first few.
  const [row] = await db.execute<{ rows: RejectedRecipient[] | null }>(sql`
    select (select jsonb_agg(r order by n) from jsonb_array_elements(${campaigns.rejected}) with ordinality as e(r, n)
            where n <= ${limit}) as rows
    from ${campaigns} where ${campaigns.id} = ${campaignId}`);
  return row?.rows ?? [];
}

export async function listCampaigns(db: Db, principal: PartnerPrincipal, page: { cursor?: string; limit: number }) {
  assertSeesPartnerData(principal);
  const before = decodeCursor(page.cursor);
  const rows = await db
    .select({
      id: campaigns.id,
      name: campaigns.name,
      offerId: campaigns.offerId,
      total: campaigns.total,
      createdAt: campaigns.createdAt,
    })
    .from(campaigns)
    .where(and(eq(campaigns.partnerId, principal.partnerId), before ? lt(campaigns.id, before) : undefined))
    .orderBy(desc(campaigns.id))
    .limit(page.limit + 1);
  const result = toPage(rows, page.limit);
  return { ...result, items: result.items.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })) };
}

/** An export's row (`smtpReply`: the mail server's last reply when sending failed or is being retried), and more. */
export interface RecipientView extends ExportedRecipient {
  /** Set once the client accepted (a later failure is the grant's, not the email's). */
  acceptedAt: string | null;
  updatedAt: string;
}

/** A campaign's recipients in submission order, optionally only those in one state. */
export async function listCampaignRecipients(
  db: Db,
  principal: PartnerPrincipal,
  campaignId: string,
  query: { state?: DelegationState | undefined; cursor?: string | undefined; limit: number },
): Promise<Page<RecipientView>> {
  assertSeesPartnerData(principal);
  await getOwnCampaign(db, principal.partnerId, campaignId);
  const after = decodeCursor(query.cursor);
  const rows = await db
    .select()
    .from(delegations)
    .where(
      and(
        eq(delegations.campaignId, campaignId),
        query.state ? eq(delegations.state, query.state) : undefined,
        after ? gt(delegations.id, after) : undefined,
      ),
    )
    .orderBy(asc(delegations.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return {
    nextCursor: page.nextCursor,
    items: page.items.map((d) => ({
      delegationId: d.id,
      email: d.recipientEmail ?? '',
      name: d.recipientName,
      company: d.recipientCompany,
      state: d.state,
      sendAttempts: d.sendAttempts,
      smtpReply: d.smtpReply,
      failureReason: d.failureReason,
      offeredAt: d.offeredAt?.toISOString() ?? null,
      acceptedAt: d.acceptedAt?.toISOString() ?? null,
      updatedAt: d.updatedAt.toISOString(),
    })),
  };
}
