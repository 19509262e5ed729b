import { eq, sql } from 'drizzle-orm';
import type { PartnerRoleView } from '../../core/partner-permissions.ts';
import { RetryableSendError } from '../../core/smtp-outcome.ts';
import { delegations } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import { delegationLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { leaseEnded } from '../../lib/worker-process.ts';
import {
  campaignRequesterJson,
  type DeliverOfferDeps,
  deliverOffer,
  type SendOfferOutcome,
  stopIfRequesterMayNotSend,
} from './deliver-offer.ts';

export { offerMessageId, type SendOfferOutcome } from './deliver-offer.ts';

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
  requester: { userId: string; access: PartnerRoleView | null } | null;
}

export interface SendOfferDeps extends DeliverOfferDeps {
  config: DeliverOfferDeps['config'] & Pick<Config, 'leaseSeconds' | 'processStaleSeconds'>;
}

/**
 * Sends the offer email of one `invited` delegation and records the outcome: the
 * `send-offer` job of one recipient, as campaigns were sent before chunks (jobs queued
 * then still run; docs/adr/0027). Chunks send through services/campaigns/send-chunk.ts.
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
        send_lease_until = now() + make_interval(secs => ${deps.config.leaseSeconds}), send_lease_holder = null,
        -- Still in doubt means the previous attempt died after its mark and before its
        -- outcome: its email may or may not have reached the server. A lease alone does
        -- not: the process leases many rows, and only a marked one gets its end of data.
        uncertain_sends = d.uncertain_sends + d.send_in_doubt::int, send_in_doubt = false
    from offers o, organizations p
    where d.id = ${delegationId} and d.state = 'invited'
      -- A chunk's live holder keeps its rows whatever their time (lib/worker-process.ts).
      and ${leaseEnded('d.send_lease_until', 'd.send_lease_holder', deps.config.processStaleSeconds)}
      and o.id = d.offer_id and p.id = d.partner_id
    returning d.recipient_email, d.recipient_name, d.recipient_company, d.roles, d.duration_days,
              d.auto_extend, d.send_attempts, d.uncertain_sends, o.expires_at as offer_expires_at,
              o.revoked_at is not null as offer_revoked, o.expires_at <= now() as offer_expired,
              p.name as partner_name, d.partner_id, d.campaign_id,
              -- The requester's access as of this send: a campaign goes out on their authority.
              (select ${campaignRequesterJson} from campaigns c where c.id = d.campaign_id) as requester`);
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
  const facts = {
    partnerName: row.partner_name,
    partnerId: row.partner_id,
    campaignId: row.campaign_id,
    offerExpiresAt: new Date(row.offer_expires_at),
    offerRevoked: row.offer_revoked,
    offerExpired: row.offer_expired,
    requester: row.requester,
  };
  if (await stopIfRequesterMayNotSend(deps, facts)) return { outcome: 'skipped', state: 'terminated' };
  const result = await deliverOffer(
    deps,
    {
      delegationId,
      recipientEmail: row.recipient_email,
      recipientName: row.recipient_name,
      recipientCompany: row.recipient_company,
      roles: row.roles,
      durationDays: row.duration_days,
      autoExtend: row.auto_extend,
      sendAttempts: row.send_attempts,
      uncertainSends: row.uncertain_sends,
    },
    facts,
    options,
  );
  if (result.outcome === 'deferred') throw new RetryableSendError(result.reply, { cause: result.error });
  return result;
}
