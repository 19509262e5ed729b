import { and, eq, getTableColumns, gt, isNull, lt, sql } from 'drizzle-orm';
import { AppError, isAppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { type RawRecipient, type RejectedRecipient, screenRecipients } from '../../core/recipients.ts';
import { sanitizeEcho } from '../../core/text.ts';
import type { Db } from '../../db/client.ts';
import { campaigns, campaignUploads, offers } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { assertCanSendOffers, assertOfferOpen, getOwnOffer } from '../offers/offers.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { assertListSize, createCampaign } from './campaigns.ts';

/** How long an uploaded list waits for its "Send" (docs/adr/0028). */
export const UPLOAD_KEPT_MINUTES = 60;

export interface UploadCampaignListInput {
  offerId: string;
  /** The campaign's name; the default name (chosen when sent) if left out. */
  name?: string | undefined;
  fileName?: string | undefined;
  recipients: RawRecipient[];
}

/**
 * Keeps an uploaded recipient list until it is sent, after the checks creating a campaign
 * of it makes first (the right to send offers, the list's size, the offer open) and with
 * the rows that would be refused, so they can be shown before anything is sent. A list of
 * which no row can be sent is kept too: its page says why. Nothing is sent from here.
 */
export async function uploadCampaignList(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  input: UploadCampaignListInput,
): Promise<{ id: string }> {
  assertCanSendOffers(principal);
  assertListSize(input.recipients);
  assertOfferOpen(await getOwnOffer(deps.db, principal.partnerId, input.offerId));
  const { accepted, rejected } = screenRecipients(input.recipients);
  const id = newId('campaignUpload');
  await deps.db.insert(campaignUploads).values({
    id,
    partnerId: principal.partnerId,
    offerId: input.offerId,
    name: input.name ?? null,
    fileName: input.fileName ? sanitizeEcho(input.fileName, 200) : null,
    recipients: input.recipients,
    valid: accepted.length,
    rejected,
    createdBy: principal.userId,
    expiresAt: sql`now() + make_interval(mins => ${UPLOAD_KEPT_MINUTES})`,
  });
  return { id };
}

export interface CampaignUploadView {
  id: string;
  offer: { id: string; name: string };
  name: string | null;
  fileName: string | null;
  /** Rows read from the file. */
  rows: number;
  /** Rows that would be sent. */
  valid: number;
  rejected: RejectedRecipient[];
  expiresAt: string;
  /** Past its time: no longer sendable. */
  expired: boolean;
  /** The campaign made of it, once sent. */
  campaignId: string | null;
}

/**
 * One upload of the signed-in staff member (another's is NOT_FOUND, as is one of another
 * partner): what would be sent, and what refused.
 */
export async function getCampaignUpload(
  db: Db,
  principal: PartnerPrincipal,
  uploadId: string,
): Promise<CampaignUploadView> {
  assertCanSendOffers(principal);
  requireId('campaignUpload', uploadId, 'upload');
  const { recipients: _rows, ...columns } = getTableColumns(campaignUploads);
  const [row] = await db
    .select({
      ...columns,
      rows: sql<number>`jsonb_array_length(${campaignUploads.recipients})`,
      expired: sql<boolean>`${campaignUploads.expiresAt} <= now()`,
      offerName: offers.name,
    })
    .from(campaignUploads)
    .innerJoin(offers, eq(offers.id, campaignUploads.offerId))
    .where(ownUpload(principal, uploadId));
  if (!row) throw new AppError('NOT_FOUND', 'No such upload');
  return {
    id: row.id,
    offer: { id: row.offerId, name: row.offerName },
    name: row.name,
    fileName: row.fileName,
    // Once sent, the rows are dropped: the campaign counts them.
    rows: row.campaignId ? row.valid + row.rejected.length : row.rows,
    valid: row.valid,
    rejected: row.rejected,
    expiresAt: row.expiresAt.toISOString(),
    expired: row.expired,
    campaignId: row.campaignId,
  };
}

const ownUpload = (principal: PartnerPrincipal, uploadId: string) =>
  and(
    eq(campaignUploads.id, uploadId),
    eq(campaignUploads.partnerId, principal.partnerId),
    eq(campaignUploads.createdBy, principal.userId),
  );

/**
 * Creates the campaign of an upload, through `createCampaign` and so with all its checks
 * again (the offer may have been withdrawn meanwhile, the day's sends grown), from the very
 * rows that were shown. The upload is marked sent — naming its campaign, its rows dropped —
 * in the campaign's own transaction: sent twice (two tabs, a double click that got past the
 * form's key), the second finds it sent and answers with the first one's campaign.
 */
export async function sendCampaignUpload(
  deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>,
  principal: PartnerPrincipal,
  uploadId: string,
  requestId?: string,
): Promise<{ campaignId: string; total: number; alreadySent: boolean }> {
  assertCanSendOffers(principal);
  requireId('campaignUpload', uploadId, 'upload');
  const [upload] = await deps.db
    .select({
      offerId: campaignUploads.offerId,
      name: campaignUploads.name,
      recipients: campaignUploads.recipients,
      campaignId: campaignUploads.campaignId,
      expired: sql<boolean>`${campaignUploads.expiresAt} <= now()`,
    })
    .from(campaignUploads)
    .where(ownUpload(principal, uploadId));
  if (!upload)
    throw new AppError('NOT_FOUND', 'No such upload: it was sent long ago or never made. Upload the list again.');
  const sent = async (campaignId: string) => ({
    campaignId,
    total: await totalOf(deps.db, campaignId),
    alreadySent: true,
  });
  if (upload.campaignId) return sent(upload.campaignId);
  if (upload.expired) {
    throw new AppError('NOT_FOUND', `An uploaded list is kept ${UPLOAD_KEPT_MINUTES} minutes: upload it again.`);
  }
  try {
    const created = await createCampaign(
      deps,
      principal,
      { offerId: upload.offerId, name: upload.name ?? undefined, recipients: upload.recipients },
      requestId,
      {
        recordedWith: async (tx, campaignId) => {
          const marked = await tx
            .update(campaignUploads)
            .set({ campaignId, recipients: [] })
            .where(
              and(
                eq(campaignUploads.id, uploadId),
                isNull(campaignUploads.campaignId),
                gt(campaignUploads.expiresAt, sql`now()`),
              ),
            )
            .returning({ id: campaignUploads.id });
          if (marked.length === 0) throw new AppError('CONFLICT', 'This list was sent meanwhile');
        },
      },
    );
    return { campaignId: created.id, total: created.total, alreadySent: false };
  } catch (error) {
    if (!isAppError(error, 'CONFLICT')) throw error;
    const [now] = await deps.db
      .select({ campaignId: campaignUploads.campaignId })
      .from(campaignUploads)
      .where(ownUpload(principal, uploadId));
    if (!now?.campaignId) throw error;
    return sent(now.campaignId);
  }
}

async function totalOf(db: Db, campaignId: string): Promise<number> {
  const [row] = await db.select({ total: campaigns.total }).from(campaigns).where(eq(campaigns.id, campaignId));
  return row?.total ?? 0;
}

/** Forgets uploads past their time, sent or not (run by the reconciler). Returns how many. */
export async function purgeCampaignUploads(db: Db): Promise<number> {
  const gone = await db
    .delete(campaignUploads)
    .where(lt(campaignUploads.expiresAt, sql`now()`))
    .returning({ id: campaignUploads.id });
  return gone.length;
}
