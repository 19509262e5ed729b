import { count, eq } from 'drizzle-orm';
import { simpleParser } from 'mailparser';
import { canTransition } from '../../core/delegation-machine.ts';
import {
  bounceKind,
  type DeliveryStatus,
  decisiveRecipient,
  parseDeliveryStatus,
  provesFailure,
} from '../../core/delivery-status.ts';
import { permanentSendFailures } from '../../core/send-failures.ts';
import type { Db } from '../../db/client.ts';
import { isDataError } from '../../db/errors.ts';
import { delegationBounces, delegations } from '../../db/schema/index.ts';
import type { Logger } from '../../lib/logger.ts';
import { type BounceOutcome, countBounce } from '../../lib/metrics.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import { applyTransition, systemActor } from '../delegations/transitions.ts';

export interface BounceDeps {
  db: Db;
  logger: Logger;
}

/** One send a report is about: a delegation and the attempt its bounce address names. */
export interface BounceTarget {
  delegationId: string;
  attempt: number;
}

/** What the listener received: the raw message and the sends its recipients name. */
export interface ReceivedBounce {
  raw: Buffer;
  /** From the bounce addresses it was sent to (lib/bounce-address.ts), already checked. */
  targets: BounceTarget[];
}

/** The reason a delegation failed through a bounce, beside the server's own reply. */
/**
 * Reports kept per delegation. One offer email gets one or two real reports (a delay, then
 * the failure) per send; past this, a sender that keeps writing reports to one address
 * (anyone who saw it) would only fill the table. A report that fails the delegation is
 * always kept.
 */
export const MAX_REPORTS_PER_DELEGATION = 20;

export const BOUNCED_REASON = permanentSendFailures.bounced;

/**
 * Reads the report of a delivery status notification (RFC 3464: a multipart/report whose
 * message/delivery-status part mailparser hands over whole) and the key that makes it
 * once-only: the SHA-256 of its Message-ID (a fixed length, whatever the sender wrote), or
 * of the whole message when it has none. Null when it is not one.
 */
export async function readBounceReport(raw: Buffer): Promise<{ report: DeliveryStatus; reportKey: string } | null> {
  let parsed: Awaited<ReturnType<typeof simpleParser>>;
  try {
    parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true });
  } catch {
    return null;
  }
  const part = parsed.attachments.find(
    (a) => a.contentType === 'message/delivery-status' || a.contentType === 'message/global-delivery-status',
  );
  const report = part ? parseDeliveryStatus(part.content.toString('utf8')) : null;
  if (!report) return null;
  const reportKey = parsed.messageId
    ? `message-id:${sha256Hex(parsed.messageId)}`
    : `sha256:${sha256Hex(raw.toString('latin1'))}`;
  return { report, reportKey };
}

/**
 * Keeps one report about one delegation's offer email, once: a permanent failure moves a
 * delegation still waiting for its answer (invited, offered) to `failed` with the server's
 * reply, as a `bounced` event in the same transaction — if it names the delegation's
 * recipient (Final- or Original-Recipient), says Action `failed`, and is about the
 * delegation's latest send (`attempt` = `send_attempts`). A delay, a report about another
 * address (an alias's or a forward's target), a 5.x.x with another Action, a failure reported after the client
 * answered (the state machine's rule: an answer stands), or one about an earlier send (a
 * late report after `retry_send`, or a replay) is kept and changes nothing. The same report again (the relay did not hear our reply) is a duplicate.
 */
export async function recordBounce(
  db: Db,
  input: BounceTarget & { reportKey: string; report: DeliveryStatus },
): Promise<BounceOutcome> {
  return db.transaction(async (tx) => {
    // Locked, so the report and a client's answer are ordered: one of them comes first.
    const [current] = await tx
      .select({
        state: delegations.state,
        sendAttempts: delegations.sendAttempts,
        recipientEmail: delegations.recipientEmail,
      })
      .from(delegations)
      .where(eq(delegations.id, input.delegationId))
      .for('update');
    // A valid tag for a delegation that is not there (another instance's key, a restored
    // database): nothing to keep it against.
    if (!current) return 'forged';
    const decisive = decisiveRecipient(input.report, current.recipientEmail);
    if (!decisive) return 'ignored';
    const { recipient, aboutRecipient } = decisive;
    const kind = bounceKind(recipient);
    if (kind === 'other') return 'ignored';
    // Only a report that proves this send failed for this recipient fails the delegation.
    const fails =
      kind === 'permanent' &&
      aboutRecipient &&
      provesFailure(recipient) &&
      input.attempt === current.sendAttempts &&
      canTransition(current.state, 'bounced');
    if (!fails) {
      const [kept] = await tx
        .select({ n: count() })
        .from(delegationBounces)
        .where(eq(delegationBounces.delegationId, input.delegationId));
      if ((kept?.n ?? 0) >= MAX_REPORTS_PER_DELEGATION) return 'capped';
    }
    const [kept] = await tx
      .insert(delegationBounces)
      .values({
        delegationId: input.delegationId,
        reportKey: input.reportKey,
        kind,
        status: recipient.status,
        action: recipient.action,
        diagnostic: recipient.diagnostic,
        reportingMta: input.report.reportingMta,
        remoteMta: recipient.remoteMta,
      })
      .onConflictDoNothing()
      .returning({ id: delegationBounces.id });
    if (!kept) return 'duplicate';
    if (kind === 'delayed') return 'delayed';
    if (!fails) return 'kept';
    const reply = recipient.diagnostic ?? `status ${recipient.status}`;
    await applyTransition(tx, {
      delegationId: input.delegationId,
      from: current.state,
      event: 'bounced',
      actor: systemActor,
      set: { failureReason: BOUNCED_REASON, smtpReply: reply, sendLeaseUntil: null },
      detail: {
        reason: BOUNCED_REASON,
        reply,
        status: recipient.status,
        reportingMta: input.report.reportingMta,
        remoteMta: recipient.remoteMta,
      },
    });
    await tx.update(delegationBounces).set({ failedDelegation: true }).where(eq(delegationBounces.id, kept.id));
    return 'failed';
  });
}

/**
 * Handles one message the bounce listener accepted: reads its report and keeps it for each
 * delegation it was sent to, counting every outcome (mandate_bounces_total). Resolves once
 * everything is committed — only then may the listener answer 250 — and rejects when the
 * database fails, so the listener answers 451 and the sending server tries again later.
 * A message that is no report is dropped (counted `unparseable`), not refused: a refusal
 * would only make a relay write another report about it.
 */
export async function receiveBounce(deps: BounceDeps, input: ReceivedBounce): Promise<BounceOutcome[]> {
  const read = await readBounceReport(input.raw);
  if (!read) {
    countBounce('unparseable');
    deps.logger.info({ targets: input.targets }, 'bounce listener: not a delivery status report; dropped');
    return ['unparseable'];
  }
  const outcomes: BounceOutcome[] = [];
  for (const target of input.targets) {
    const outcome = await recordBounce(deps.db, { ...target, ...read }).catch((error: unknown) => {
      // Data the database refuses (SQLSTATE class 22 data exception, 54 limit exceeded) is
      // refused again on every retry: drop it (the listener answers 250) rather than have
      // the sender retry for days. Anything else may pass later: rethrown, answered 451.
      if (!isDataError(error)) throw error;
      deps.logger.warn({ err: error, ...target }, 'bounce report refused by the database as data; dropped');
      return 'invalid' as const;
    });
    countBounce(outcome);
    deps.logger.info({ ...target, outcome }, 'bounce report received');
    outcomes.push(outcome);
  }
  return outcomes;
}
