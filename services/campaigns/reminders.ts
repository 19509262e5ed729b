import { and, asc, eq, gt, isNull, lte, max, type SQL, sql } from 'drizzle-orm';
import { renderOfferEmail } from '../../core/emails/offer-email.ts';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { ANSWER_TIMEOUT_DAYS } from '../../core/offer-rules.ts';
import { canSendOffers } from '../../core/partner-permissions.ts';
import { sortRoles } from '../../core/roles.ts';
import type { Db } from '../../db/client.ts';
import {
  campaignReminders,
  campaigns,
  delegations,
  emails,
  offers,
  organizations,
  staffAccess,
  users,
} from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { senderDomain } from '../../lib/mailer.ts';
import { recordAudit } from '../audit/record.ts';
import { linkPlaceholder } from '../mail/derived-links.ts';
import { enqueueEmails, type NewEmail, recordEmails } from '../mail/outbox.ts';
import { assertCanSendOffers, assertOfferOpen, getOwnOffer } from '../offers/offers.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/** The longest wait a reminder can name: an offer unanswered this long has expired (`answer_timeout`). */
export const MAX_REMIND_AFTER_DAYS = ANSWER_TIMEOUT_DAYS - 1;

/** Reminder emails written (and enqueued) per transaction. */
const BATCH = 500;

/** The outbox's kind of a reminder email. */
const REMINDER_EMAIL_KIND = 'campaign-reminder';

/** The outbox's key of one recipient's email of one reminder: what makes it once-only. */
export const reminderDedupeKey = (delegationId: string, number: number) =>
  `campaign-reminder.${delegationId}.${number}`;

export interface RemindInput {
  /** Remind those offered at least this many days ago (1 to MAX_REMIND_AFTER_DAYS). */
  afterDays: number;
  /**
   * The reminder's number as the page showed it (the campaign's next): the same number
   * again is the same reminder, answered with its count and sent no second time. Left out,
   * the next number.
   */
  number?: number | undefined;
}

export interface RemindResult {
  /** The reminder's number; null when nobody was to be reminded (nothing recorded). */
  number: number | null;
  /** Recipients still offered that long, when the reminder was asked for. */
  recipients: number;
  /** This number had been asked for already: nothing new was done. */
  repeated: boolean;
}

/**
 * "Remind everyone still offered after N days": records reminder number n of the campaign
 * — the recipients still `offered` whose email went out at least N days ago — and audits it
 * (`campaign.remind`) in one transaction under the campaign's row lock, then enqueues the
 * `remind-campaign` job that writes their emails (each with the recipient's own offer link,
 * the same as its offer email's). Asked twice with the same number, the second changes
 * nothing; each recipient gets one email per reminder whatever runs twice. The offer must
 * still be open: a reminder of a withdrawn offer would lead to a dead link.
 */
export async function remindCampaign(
  deps: Pick<Deps, 'db' | 'queues'>,
  principal: PartnerPrincipal,
  campaignId: string,
  input: RemindInput,
  requestId?: string,
): Promise<RemindResult> {
  assertCanSendOffers(principal);
  requireId('campaign', campaignId, 'campaign');
  const { afterDays } = input;
  if (!Number.isInteger(afterDays) || afterDays < 1 || afterDays > MAX_REMIND_AFTER_DAYS) {
    throw new AppError('VALIDATION_FAILED', `Remind after 1 to ${MAX_REMIND_AFTER_DAYS} days`, {
      issues: [{ path: 'afterDays', message: `must be a whole number from 1 to ${MAX_REMIND_AFTER_DAYS}` }],
    });
  }
  const result = await deps.db.transaction(async (tx): Promise<RemindResult> => {
    // The campaign's row, as stopping and chunking take it first: its reminders are numbered
    // one after the other.
    const [campaign] = await tx
      .select({ offerId: campaigns.offerId })
      .from(campaigns)
      .where(and(eq(campaigns.id, campaignId), eq(campaigns.partnerId, principal.partnerId)))
      .for('update');
    if (!campaign) throw new AppError('NOT_FOUND', 'No such campaign');
    assertOfferOpen(await getOwnOffer(tx, principal.partnerId, campaign.offerId, { lock: 'share' }));
    const [last] = await tx
      .select({ number: max(campaignReminders.number) })
      .from(campaignReminders)
      .where(eq(campaignReminders.campaignId, campaignId));
    const next = (last?.number ?? 0) + 1;
    if (input.number !== undefined && input.number < next) {
      const [earlier] = await tx
        .select({ recipients: campaignReminders.recipients })
        .from(campaignReminders)
        .where(and(eq(campaignReminders.campaignId, campaignId), eq(campaignReminders.number, input.number)));
      return { number: input.number, recipients: earlier?.recipients ?? 0, repeated: true };
    }
    if (input.number !== undefined && input.number > next) {
      throw new AppError('CONFLICT', 'No such reminder yet: reload the campaign page');
    }
    const offeredBefore = sql`now() - make_interval(days => ${afterDays})`;
    const [due] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(delegations)
      .where(dueForReminder(campaignId, offeredBefore));
    const recipients = due?.n ?? 0;
    if (recipients === 0) return { number: null, recipients: 0, repeated: false };
    await tx.insert(campaignReminders).values({
      campaignId,
      number: next,
      afterDays,
      offeredBefore,
      recipients,
      createdBy: principal.userId,
    });
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'campaign.remind',
      targetType: 'campaign',
      targetId: campaignId,
      outcome: 'succeeded',
      requestId,
      detail: { number: next, afterDays, recipients },
    });
    return { number: next, recipients, repeated: false };
  });
  // If the queue is unreachable the reminder waits in PostgreSQL: the reconciler runs its job.
  if (result.number !== null && !result.repeated) {
    await deps.queues.enqueueAfterCommit('remind-campaign', { campaignId, number: result.number }, { campaignId });
  }
  return result;
}

/**
 * Recipients of the campaign who have not answered, whose offer email went out before
 * `offeredBefore`, and who were sent no reminder since: "after N days" counts from the
 * last email they got, so a second click the same day reminds nobody twice. (An email row
 * past its retention is forgotten; retention is longer than any N.)
 */
const dueForReminder = (campaignId: string, offeredBefore: SQL | Date) =>
  and(
    eq(delegations.campaignId, campaignId),
    eq(delegations.state, 'offered'),
    lte(delegations.offeredAt, offeredBefore),
    sql`not exists (select 1 from ${emails} where ${and(
      eq(emails.delegationId, delegations.id),
      eq(emails.kind, REMINDER_EMAIL_KIND),
      gt(emails.createdAt, offeredBefore),
    )})`,
  );

export interface ReminderView {
  number: number;
  afterDays: number;
  recipients: number;
  createdAt: string;
  createdBy: string;
  /** Every email of it is in the outbox. */
  recorded: boolean;
}

/** A campaign's reminders in order, and the number the next one takes. */
export async function listCampaignReminders(
  db: Db,
  principal: PartnerPrincipal,
  campaignId: string,
): Promise<{ reminders: ReminderView[]; next: number }> {
  assertSeesPartnerData(principal);
  requireId('campaign', campaignId, 'campaign');
  const rows = await db
    .select({
      number: campaignReminders.number,
      afterDays: campaignReminders.afterDays,
      recipients: campaignReminders.recipients,
      createdAt: campaignReminders.createdAt,
      createdBy: users.email,
      recordedAt: campaignReminders.recordedAt,
    })
    .from(campaignReminders)
    .innerJoin(campaigns, eq(campaigns.id, campaignReminders.campaignId))
    .innerJoin(users, eq(users.id, campaignReminders.createdBy))
    .where(and(eq(campaignReminders.campaignId, campaignId), eq(campaigns.partnerId, principal.partnerId)))
    .orderBy(asc(campaignReminders.number));
  return {
    reminders: rows.map((r) => ({
      number: r.number,
      afterDays: r.afterDays,
      recipients: r.recipients,
      createdAt: r.createdAt.toISOString(),
      createdBy: r.createdBy,
      recorded: r.recordedAt !== null,
    })),
    next: (rows.at(-1)?.number ?? 0) + 1,
  };
}

/**
 * The `remind-campaign` job: writes reminder `number`'s emails to the outbox, BATCH
 * recipients per transaction, each batch enqueued on the transactional mail queue at the
 * background priority once committed (a burst nobody waits for, like the digests), then
 * marks the reminder recorded. The recipients are read now: whoever answered since the
 * click is not reminded. Stops, recording nothing more, when the offer was withdrawn or
 * expired, or when whoever asked for the reminder may no longer send offers (checked again
 * here, as a queued operation is when it runs). Returns the emails newly written.
 */
export async function recordReminderEmails(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  campaignId: string,
  number: number,
): Promise<number> {
  const [reminder] = await deps.db
    .select({
      offeredBefore: campaignReminders.offeredBefore,
      recordedAt: campaignReminders.recordedAt,
      partnerName: organizations.name,
      offerExpiresAt: offers.expiresAt,
      offerOpen: sql<boolean>`(${offers.revokedAt} is null and ${offers.expiresAt} > now())`,
      requester: sql<{ isOwner: boolean; roles: string[] } | null>`(
        select json_build_object('isOwner', ${staffAccess.isOwner}, 'roles', ${staffAccess.roles}) from ${staffAccess}
        where ${staffAccess.userId} = ${campaignReminders.createdBy} and ${staffAccess.partnerId} = ${campaigns.partnerId})`,
    })
    .from(campaignReminders)
    .innerJoin(campaigns, eq(campaigns.id, campaignReminders.campaignId))
    .innerJoin(offers, eq(offers.id, campaigns.offerId))
    .innerJoin(organizations, eq(organizations.id, campaigns.partnerId))
    .where(and(eq(campaignReminders.campaignId, campaignId), eq(campaignReminders.number, number)));
  if (!reminder || reminder.recordedAt) return 0;
  const markRecorded = () =>
    deps.db
      .update(campaignReminders)
      .set({ recordedAt: sql`now()` })
      .where(
        and(
          eq(campaignReminders.campaignId, campaignId),
          eq(campaignReminders.number, number),
          isNull(campaignReminders.recordedAt),
        ),
      );
  const stop = !reminder.offerOpen
    ? 'the offer was withdrawn or expired'
    : !reminder.requester || !canSendOffers(reminder.requester)
      ? 'whoever asked for it may no longer send offers'
      : null;
  if (stop) {
    await markRecorded();
    deps.logger.warn({ campaignId, number, why: stop }, 'campaign reminder not sent');
    return 0;
  }
  const messageIdDomain = senderDomain(deps.config.mailFrom);
  let after = '';
  let written = 0;
  for (;;) {
    const rows = await deps.db
      .select({
        id: delegations.id,
        email: delegations.recipientEmail,
        name: delegations.recipientName,
        company: delegations.recipientCompany,
        roles: delegations.roles,
        durationDays: delegations.durationDays,
        autoExtend: delegations.autoExtend,
      })
      .from(delegations)
      .where(and(dueForReminder(campaignId, reminder.offeredBefore), gt(delegations.id, after)))
      .orderBy(asc(delegations.id))
      .limit(BATCH);
    if (rows.length === 0) break;
    const batch: NewEmail[] = rows.flatMap((r) => {
      if (!r.email) return [];
      // The recipient's own link, as in its offer email: derived when the email is sent.
      const { placeholder, links } = linkPlaceholder({ kind: 'offer', delegationId: r.id });
      return [
        {
          dedupeKey: reminderDedupeKey(r.id, number),
          kind: REMINDER_EMAIL_KIND,
          delegationId: r.id,
          toEmail: r.email,
          links,
          content: renderOfferEmail({
            partnerName: reminder.partnerName,
            roles: sortRoles(r.roles),
            durationDays: r.durationDays,
            autoExtend: r.autoExtend,
            link: placeholder,
            recipientName: r.name,
            recipientCompany: r.company,
            offerExpiresAt: reminder.offerExpiresAt,
            reminder: true,
          }),
        },
      ];
    });
    const ids = await recordEmails(deps.db, messageIdDomain, batch);
    await enqueueEmails(deps, ids, { background: true });
    written += ids.length;
    after = rows.at(-1)?.id ?? after;
  }
  await markRecorded();
  deps.logger.info({ campaignId, number, written }, 'campaign reminder recorded');
  return written;
}

/** Reminders whose emails are not all written, untouched since `age`: the reconciler runs their jobs again. */
export async function unrecordedReminders(db: Db, age: SQL, limit: number) {
  return db
    .select({ campaignId: campaignReminders.campaignId, number: campaignReminders.number })
    .from(campaignReminders)
    .where(and(isNull(campaignReminders.recordedAt), lte(campaignReminders.createdAt, age)))
    .orderBy(asc(campaignReminders.createdAt))
    .limit(limit);
}
