import { and, eq, sql } from 'drizzle-orm';
import { renderOfferEmail } from '../../core/emails/offer-email.ts';
import { interruptedTooOften } from '../../core/interrupted-sends.ts';
import { campaignStopReason, type PartnerRoleView } from '../../core/partner-permissions.ts';
import { sortRoles } from '../../core/roles.ts';
import { permanentSendFailures } from '../../core/send-failures.ts';
import { classifySmtpError, deliveryInDoubt, isSmtpError } from '../../core/smtp-outcome.ts';
import type { Db } from '../../db/client.ts';
import { delegations } from '../../db/schema/index.ts';
import { offerReturnPath } from '../../lib/bounce-address.ts';
import { commitGroupOf } from '../../lib/commit-group.ts';
import type { Config } from '../../lib/config.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Mailer } from '../../lib/mailer.ts';
import { countEmail } from '../../lib/metrics.ts';
import { delegationLinkToken } from '../../lib/secrets.ts';
import { applyTransition, systemActor } from '../delegations/transitions.ts';
import { markOffersInDoubt, recordOffersSent } from './offer-writes.ts';
import { stopCampaign } from './stop.ts';

export type SendOfferOutcome =
  | { outcome: 'sent'; attempt: number; messageId: string }
  /** Nothing to do: the delegation is no longer waiting for its email (a redelivery). */
  | { outcome: 'skipped'; state: string }
  /** Failed for good; the delegation is now `failed` with the reason recorded. */
  | { outcome: 'failed'; reason: string; reply: string | null };

/** A temporary failure, recorded on the row: the email waits for a later attempt. */
export type DeferredOutcome = { outcome: 'deferred'; reply: string; error: unknown };

/** One claimed recipient: its row as the claim returned it (the attempt just counted). */
export interface ClaimedOffer {
  delegationId: string;
  recipientEmail: string;
  recipientName: string | null;
  recipientCompany: string | null;
  roles: string[];
  durationDays: number;
  autoExtend: boolean;
  sendAttempts: number;
  /** `send_attempts` at the last retry of a failed send: MAIL_ATTEMPTS counts from it. */
  sendAttemptsBase?: number;
  uncertainSends: number;
}

/** What every recipient of a campaign shares, read once per claim. */
export interface OfferFacts {
  partnerName: string;
  partnerId: string;
  campaignId: string | null;
  offerExpiresAt: Date;
  offerRevoked: boolean;
  offerExpired: boolean;
  /**
   * Who sent the campaign and their staff access now (`access` null: no longer staff);
   * null for a delegation outside a campaign.
   */
  requester: { userId: string; access: PartnerRoleView | null } | null;
}

/** The in-doubt mark found the attempt overtaken or the delegation moved on: the message is abandoned unsent. */
class MarkRefused extends Error {
  override name = 'MarkRefused';
}

/**
 * SQL: who sent the campaign aliased `c` and their staff access now, as
 * {@link OfferFacts}' `requester` (`access` null when no longer staff).
 */
export const campaignRequesterJson = sql`json_build_object('userId', c.created_by, 'access',
  (select json_build_object('isOwner', s.is_owner, 'roles', s.roles) from staff_access s
   where s.user_id = c.created_by and s.partner_id = c.partner_id))`;

/** The deterministic Message-ID of a delegation's offer email. */
export function offerMessageId(delegationId: string, domain: string): string {
  return `<${delegationId}.offer@${domain}>`;
}

export interface DeliverOfferDeps {
  db: Db;
  config: Pick<Config, 'linkSecret' | 'publicUrl' | 'mailBounceDomain'>;
  mailer: Mailer;
  logger: Logger;
}

/**
 * Stops the campaign when its requester may no longer send it (checked again for every
 * claim, as a queued operation is when it runs). True when it was stopped.
 */
export async function stopIfRequesterMayNotSend(deps: DeliverOfferDeps, facts: OfferFacts): Promise<boolean> {
  const stopReason = facts.requester && facts.campaignId ? campaignStopReason(facts.requester.access) : null;
  if (!stopReason || !facts.requester || !facts.campaignId) return false;
  const withdrawn = await stopCampaign(deps.db, {
    campaignId: facts.campaignId,
    partnerId: facts.partnerId,
    requestedBy: facts.requester.userId,
    reason: stopReason,
  });
  deps.logger.warn({ campaignId: facts.campaignId, withdrawn }, 'campaign stopped: its requester may no longer send');
  return true;
}

/**
 * Sends the offer email of one claimed `invited` delegation and records the outcome.
 *
 * Outcomes are recorded only while the claim's attempt is still the latest: a run that
 * lost its lease (and was overtaken by another) cannot overwrite what the newer one did.
 * A permanent SMTP failure, or a temporary one on the final attempt, moves the delegation
 * to `failed` with the server's reply; another temporary failure is recorded on the row
 * and returned as `deferred`.
 */
export async function deliverOffer(
  deps: DeliverOfferDeps,
  offer: ClaimedOffer,
  facts: OfferFacts,
  options: { isFinalAttempt: boolean },
): Promise<SendOfferOutcome | DeferredOutcome> {
  const { delegationId } = offer;
  const ownAttempt = eq(delegations.sendAttempts, offer.sendAttempts);
  const fail = async (reason: string, reply: string | null, inDoubt = false): Promise<SendOfferOutcome> => {
    await applyTransition(deps.db, {
      delegationId,
      from: 'invited',
      guard: ownAttempt,
      event: 'send_failed',
      actor: systemActor,
      set: {
        failureReason: reason,
        smtpReply: reply,
        sendLeaseUntil: null,
        sendInDoubt: false,
        // Kept across a later retry: ADR 5's two copies count this one if it may have gone out.
        uncertainSends: sql`${delegations.uncertainSends} + ${inDoubt ? 1 : 0}`,
      },
      detail: { reason, reply, attempt: offer.sendAttempts },
    });
    return { outcome: 'failed', reason, reply };
  };
  const messageId = offerMessageId(delegationId, deps.mailer.messageIdDomain);

  if (interruptedTooOften(offer.uncertainSends)) {
    // Two attempts died mid-send: the email has probably gone out (twice, perhaps). The
    // policy is to resend at most once (docs/adr/0005): count it as sent.
    await applyTransition(deps.db, {
      delegationId,
      from: 'invited',
      guard: ownAttempt,
      event: 'send_succeeded',
      actor: systemActor,
      set: { offeredAt: sql`now()`, messageId, sendLeaseUntil: null, sendInDoubt: false },
      detail: { assumed: true, reason: 'two sends were interrupted; not resending again', attempt: offer.sendAttempts },
    });
    return { outcome: 'skipped', state: 'offered' };
  }
  if (facts.offerRevoked) return fail('The offer was revoked before the email was sent', null);
  if (facts.offerExpired) return fail('The offer expired before the email was sent', null);

  const token = delegationLinkToken(deps.config.linkSecret, delegationId);
  const email = renderOfferEmail({
    partnerName: facts.partnerName,
    roles: sortRoles(offer.roles),
    durationDays: offer.durationDays,
    autoExtend: offer.autoExtend,
    link: `${deps.config.publicUrl}/offers/${token}`,
    recipientName: offer.recipientName,
    recipientCompany: offer.recipientCompany,
    offerExpiresAt: facts.offerExpiresAt,
  });

  // The mark, committed before the end of data: from here until the outcome, the server
  // may have the message. Zero rows: this attempt was overtaken or the delegation moved
  // on, so nothing is sent.
  // Marks and outcomes of this process share commits (lib/commit-group.ts): one
  // transaction records the outcomes received since the last and marks the next messages.
  const group = commitGroupOf(deps.db, (error) =>
    deps.logger.warn({ err: error }, 'send outcomes wait for the database'),
  );
  const attempt = { delegationId, attempt: offer.sendAttempts };
  const markInDoubt = async () => {
    if (!(await group.writeOf(markOffersInDoubt, attempt))) throw new MarkRefused();
  };
  // The message is out once the server answers: its record joins the next commit, which
  // is retried until it is written (Mailer.sendAndRecord) — no later message ends its
  // data before it.
  const record = (reply: string) => group.writeOf(recordOffersSent, { ...attempt, messageId, reply });
  let recorded: boolean;
  try {
    recorded = await deps.mailer.sendAndRecord(
      {
        to: offer.recipientEmail,
        messageId,
        returnPath: offerReturnPath(deps.config, delegationId, offer.sendAttempts),
        ...email,
      },
      record,
      { markInDoubt },
    );
  } catch (error) {
    // Overtaken, or the delegation moved on (stopped, revoked, accepted): nothing went out.
    if (error instanceof MarkRefused) return { outcome: 'skipped', state: 'moved on' };
    if (!isSmtpError(error)) throw error; // no end of data without its mark: nothing went out
    const failure = classifySmtpError(error);
    // No answer after the end of data: the server may have the message. Counted as an
    // interrupted send, so a recipient whose every attempt ends so gets at most two copies.
    const inDoubt = deliveryInDoubt(error);
    countEmail('offer', failure.permanent ? 'rejected' : options.isFinalAttempt ? 'failed' : 'deferred');
    if (failure.permanent) return fail(permanentSendFailures.refused, failure.reply, inDoubt);
    if (options.isFinalAttempt) {
      const attempts = offer.sendAttempts - (offer.sendAttemptsBase ?? 0);
      return fail(`Gave up after ${attempts} attempts; the last reply was temporary`, failure.reply, inDoubt);
    }
    await deps.db
      .update(delegations)
      .set({
        smtpReply: failure.reply,
        sendLeaseUntil: null,
        sendInDoubt: false,
        uncertainSends: sql`${delegations.uncertainSends} + ${inDoubt ? 1 : 0}`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(delegations.id, delegationId), eq(delegations.state, 'invited'), ownAttempt));
    return { outcome: 'deferred', reply: failure.reply, error };
  }
  countEmail('offer', 'sent');
  if (!recorded) {
    // Accepted, declined or terminated while the email was on its way: the email went
    // out and the newer state stands.
    deps.logger.info({ delegationId }, 'offer email sent but the delegation moved on meanwhile');
  }
  return { outcome: 'sent', attempt: offer.sendAttempts, messageId };
}
