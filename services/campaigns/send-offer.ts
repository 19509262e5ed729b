import { and, eq, sql } from 'drizzle-orm';
import { renderOfferEmail } from '../../core/emails/offer-email.ts';
import { interruptedTooOften } from '../../core/interrupted-sends.ts';
import { campaignStopReason, type PartnerRoleView } from '../../core/partner-permissions.ts';
import { sortRoles } from '../../core/roles.ts';
import { classifySmtpError, deliveryInDoubt, isSmtpError, RetryableSendError } from '../../core/smtp-outcome.ts';
import type { Db } from '../../db/client.ts';
import { delegations } from '../../db/schema/index.ts';
import { offerReturnPath } from '../../lib/bounce-address.ts';
import { commitGroupOf } from '../../lib/commit-group.ts';
import type { Config } from '../../lib/config.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Mailer } from '../../lib/mailer.ts';
import { countEmail } from '../../lib/metrics.ts';
import { delegationLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { applyTransition, systemActor } from '../delegations/transitions.ts';
import { stopCampaign } from './stop.ts';

export type SendOfferOutcome =
  | { outcome: 'sent'; attempt: number; messageId: string }
  /** Nothing to do: the delegation is no longer waiting for its email (a redelivery). */
  | { outcome: 'skipped'; state: string }
  /** Failed for good; the delegation is now `failed` with the reason recorded. */
  | { outcome: 'failed'; reason: string; reply: string | null };

interface ClaimedRow extends Record<string, unknown> {
  recipient_email: string;
  recipient_name: string | null;
  recipient_company: string | null;
  roles: string[];
  duration_days: number;
  auto_extend: boolean;
  send_attempts: number;
  uncertain_sends: number;
  offer_expires_at: string;
  offer_revoked: boolean;
  offer_expired: boolean;
  partner_name: string;
  partner_id: string;
  campaign_id: string | null;
  /**
   * Who sent the campaign and their staff access now (`access` null: no longer staff);
   * null for a delegation outside a campaign.
   */
  requester: { userId: string; access: PartnerRoleView | null } | null;
}

/** The deterministic Message-ID of a delegation's offer email. */
export function offerMessageId(delegationId: string, domain: string): string {
  return `<${delegationId}.offer@${domain}>`;
}

export interface SendOfferDeps {
  db: Db;
  config: Pick<Config, 'linkSecret' | 'publicUrl' | 'leaseSeconds' | 'mailBounceDomain'>;
  mailer: Mailer;
  logger: Logger;
}

/**
 * Sends the offer email of one `invited` delegation and records the outcome.
 *
 * Idempotent: a delegation that is no longer `invited` (already offered, accepted,
 * terminated…) sends nothing. The attempt is counted before the SMTP transaction so
 * the operator sees how often a recipient was tried. A permanent SMTP failure, or a
 * temporary one on the final attempt, moves the delegation to `failed` with the
 * server's reply; other temporary failures throw {@link RetryableSendError}.
 */
export async function sendOffer(
  deps: SendOfferDeps,
  delegationId: string,
  options: { isFinalAttempt: boolean },
): Promise<SendOfferOutcome> {
  const token = delegationLinkToken(deps.config.linkSecret, delegationId);
  // Claim: take the send lease (so another run of this job cannot send too), count the
  // attempt, and make the link resolvable before the email can exist.
  const [row] = await deps.db.execute<ClaimedRow>(sql`
    update delegations d
    set send_attempts = d.send_attempts + 1, token_hash = ${sha256Hex(token)}, updated_at = now(),
        send_lease_until = now() + make_interval(secs => ${deps.config.leaseSeconds}),
        -- Still in doubt means the previous attempt died after its mark and before its
        -- outcome: its email may or may not have reached the server. A lease alone does
        -- not: the process leases many rows, and only a marked one gets its end of data.
        uncertain_sends = d.uncertain_sends + d.send_in_doubt::int, send_in_doubt = false
    from offers o, organizations p
    where d.id = ${delegationId} and d.state = 'invited'
      and (d.send_lease_until is null or d.send_lease_until < now())
      and o.id = d.offer_id and p.id = d.partner_id
    returning d.recipient_email, d.recipient_name, d.recipient_company, d.roles, d.duration_days,
              d.auto_extend, d.send_attempts, d.uncertain_sends, o.expires_at as offer_expires_at,
              o.revoked_at is not null as offer_revoked, o.expires_at <= now() as offer_expired,
              p.name as partner_name, d.partner_id, d.campaign_id,
              -- The requester's access as of this send: a campaign goes out on their authority.
              (select json_build_object('userId', c.created_by, 'access',
                  (select json_build_object('isOwner', s.is_owner, 'roles', s.roles) from staff_access s
                   where s.user_id = c.created_by and s.partner_id = c.partner_id))
               from campaigns c where c.id = d.campaign_id) as requester`);
  if (!row) {
    const [current] = await deps.db
      .select({ state: delegations.state })
      .from(delegations)
      .where(eq(delegations.id, delegationId));
    // Still invited: another run holds the lease right now. Try again later rather than
    // finishing this job, so a failure of the other run is not lost.
    if (current?.state === 'invited') throw new RetryableSendError('another attempt is sending this email');
    return { outcome: 'skipped', state: current?.state ?? 'missing' };
  }

  // Outcomes are recorded only while this is still the latest attempt: a run that lost its
  // lease (and was overtaken by another) cannot overwrite what the newer one did.
  const ownAttempt = eq(delegations.sendAttempts, row.send_attempts);
  const fail = async (reason: string, reply: string | null): Promise<SendOfferOutcome> => {
    await applyTransition(deps.db, {
      delegationId,
      from: 'invited',
      guard: ownAttempt,
      event: 'send_failed',
      actor: systemActor,
      set: { failureReason: reason, smtpReply: reply, sendLeaseUntil: null, sendInDoubt: false },
      detail: { reason, reply, attempt: row.send_attempts },
    });
    return { outcome: 'failed', reason, reply };
  };

  if (interruptedTooOften(row.uncertain_sends)) {
    // Two attempts died mid-send: the email has probably gone out (twice, perhaps). The
    // policy is to resend at most once (docs/adr/0005): count it as sent.
    await applyTransition(deps.db, {
      delegationId,
      from: 'invited',
      guard: ownAttempt,
      event: 'send_succeeded',
      actor: systemActor,
      set: {
        offeredAt: sql`now()`,
        messageId: offerMessageId(delegationId, deps.mailer.messageIdDomain),
        sendLeaseUntil: null,
        sendInDoubt: false,
      },
      detail: { assumed: true, reason: 'two sends were interrupted; not resending again', attempt: row.send_attempts },
    });
    return { outcome: 'skipped', state: 'offered' };
  }
  // Checked again for every email, as a queued operation is when it runs: the staff member
  // who sent the campaign may have been removed, or lost the right to send, since.
  const stopReason = row.requester && row.campaign_id ? campaignStopReason(row.requester.access) : null;
  if (stopReason && row.requester && row.campaign_id) {
    const withdrawn = await stopCampaign(deps.db, {
      campaignId: row.campaign_id,
      partnerId: row.partner_id,
      requestedBy: row.requester.userId,
      reason: stopReason,
    });
    deps.logger.warn(
      { delegationId, campaignId: row.campaign_id, withdrawn },
      'campaign stopped: its requester may no longer send',
    );
    return { outcome: 'skipped', state: 'terminated' };
  }
  if (row.offer_revoked) return fail('The offer was revoked before the email was sent', null);
  if (row.offer_expired) return fail('The offer expired before the email was sent', null);

  const email = renderOfferEmail({
    partnerName: row.partner_name,
    roles: sortRoles(row.roles),
    durationDays: row.duration_days,
    autoExtend: row.auto_extend,
    link: `${deps.config.publicUrl}/offers/${token}`,
    recipientName: row.recipient_name,
    recipientCompany: row.recipient_company,
    offerExpiresAt: new Date(row.offer_expires_at),
  });
  const messageId = offerMessageId(delegationId, deps.mailer.messageIdDomain);

  // The mark, committed before the end of data: from here until the outcome, the server
  // may have the message. Zero rows: this attempt was overtaken or the delegation moved
  // on, so nothing is sent.
  // Marks and outcomes of this process share commits (lib/commit-group.ts): one
  // transaction records the outcomes received since the last and marks the next messages.
  const group = commitGroupOf(deps.db, (error) =>
    deps.logger.warn({ err: error }, 'send outcomes wait for the database'),
  );
  const markInDoubt = async () => {
    const marked = await group.write(
      async (tx) =>
        (
          await tx
            .update(delegations)
            .set({ sendInDoubt: true })
            .where(and(eq(delegations.id, delegationId), eq(delegations.state, 'invited'), ownAttempt))
            .returning({ id: delegations.id })
        ).length === 1,
    );
    if (!marked) throw new RetryableSendError('this attempt no longer holds the send');
  };
  // The message is out once the server answers: its record joins the next commit, which
  // is retried until it is written (Mailer.sendAndRecord) — no later message ends its
  // data before it.
  const record = (reply: string) =>
    group.write((tx) =>
      applyTransition(tx, {
        delegationId,
        from: 'invited',
        guard: ownAttempt,
        event: 'send_succeeded',
        actor: systemActor,
        set: {
          offeredAt: sql`now()`,
          messageId,
          smtpReply: null,
          failureReason: null,
          sendLeaseUntil: null,
          sendInDoubt: false,
        },
        detail: { messageId, attempt: row.send_attempts, reply },
      }),
    );
  let recorded: boolean;
  try {
    recorded = await deps.mailer.sendAndRecord(
      {
        to: row.recipient_email,
        messageId,
        returnPath: offerReturnPath(deps.config, delegationId, row.send_attempts),
        ...email,
      },
      record,
      { markInDoubt },
    );
  } catch (error) {
    if (!isSmtpError(error)) throw error; // no end of data without its mark: nothing went out
    const failure = classifySmtpError(error);
    // No answer after the end of data: the server may have the message. Counted as an
    // interrupted send, so a recipient whose every attempt ends so gets at most two copies.
    const inDoubt = deliveryInDoubt(error);
    countEmail('offer', failure.permanent ? 'rejected' : options.isFinalAttempt ? 'failed' : 'deferred');
    if (failure.permanent) return fail('The mail server refused the message', failure.reply);
    if (options.isFinalAttempt) {
      return fail(`Gave up after ${row.send_attempts} attempts; the last reply was temporary`, failure.reply);
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
    throw new RetryableSendError(failure.reply, { cause: error });
  }
  countEmail('offer', 'sent');
  if (!recorded) {
    // Accepted, declined or terminated while the email was on its way: the email went
    // out and the newer state stands.
    deps.logger.info({ delegationId }, 'offer email sent but the delegation moved on meanwhile');
  }
  return { outcome: 'sent', attempt: row.send_attempts, messageId };
}
