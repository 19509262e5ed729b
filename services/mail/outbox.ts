import { and, eq, sql } from 'drizzle-orm';
import { type DerivedLinks, fillDerivedLinks } from '../../core/emails/derived-links.ts';
import type { RenderedEmail } from '../../core/emails/offer-email.ts';
import { newId } from '../../core/ids.ts';
import { interruptedTooOften } from '../../core/interrupted-sends.ts';
import { classifySmtpError, deliveryInDoubt, isSmtpError, RetryableSendError } from '../../core/smtp-outcome.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { emails } from '../../db/schema/index.ts';
import { commitGroupOf } from '../../lib/commit-group.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Mailer } from '../../lib/mailer.ts';
import { countEmail } from '../../lib/metrics.ts';
import { derivedLinkUrl } from './derived-links.ts';

export interface NewEmail {
  /** Same key, same email: recording it again is a no-op. */
  dedupeKey: string;
  kind: string;
  delegationId?: string | null;
  toEmail: string;
  /** Subject and bodies; a link with a key appears in them only as a placeholder of `links`. */
  content: RenderedEmail;
  /**
   * The placeholders in `content` and the links they stand for (linkPlaceholder in
   * ./derived-links.ts). Stored as they are; the URLs are derived only when sending.
   */
  links?: DerivedLinks;
}

/**
 * Writes notification emails to the outbox, inside the caller's transaction, so they
 * exist exactly when the change they announce does. Returns the ids of the rows that
 * are new (already recorded ones are skipped); enqueue those after commit.
 */
export async function recordEmails(db: DbOrTx, messageIdDomain: string, list: NewEmail[]): Promise<string[]> {
  if (list.length === 0) return [];
  const rows = await db
    .insert(emails)
    .values(
      list.map((e) => {
        const id = newId('email');
        return {
          id,
          dedupeKey: e.dedupeKey,
          kind: e.kind,
          delegationId: e.delegationId ?? null,
          toEmail: e.toEmail,
          subject: e.content.subject,
          textBody: e.content.text,
          htmlBody: e.content.html,
          links: e.links ?? {},
          messageId: `<${id}@${messageIdDomain}>`,
        };
      }),
    )
    .onConflictDoNothing({ target: emails.dedupeKey })
    .returning({ id: emails.id });
  return rows.map((r) => r.id);
}

/**
 * The priority of `background` emails: BullMQ runs every job without a priority first, so an
 * email someone is waiting for never queues behind a sweep's burst (docs/adr/0025).
 */
export const BACKGROUND_EMAIL_PRIORITY = 10;

/**
 * Hands recorded emails to the transactional mail queue; a queue outage is logged, the rows
 * wait. `background`: mail nobody is waiting for, recorded in bursts by the sweeps (weekly
 * digests, expiry notices) — sent after every email a person is waiting for (a confirmation,
 * a sign-in notice), whatever the order they were recorded in.
 */
export async function enqueueEmails(
  deps: Pick<Deps, 'queues' | 'logger'>,
  ids: string[],
  options: { background?: boolean } = {},
): Promise<void> {
  if (ids.length === 0) return;
  await deps.queues.enqueueAfterCommit(
    'send-email',
    ids.map((emailId) => ({ emailId })),
    { emails: ids.length },
    options.background ? { priority: BACKGROUND_EMAIL_PRIORITY } : {},
  );
}

export type SendEmailOutcome =
  | { outcome: 'sent'; attempt: number }
  | { outcome: 'skipped'; state: string }
  | { outcome: 'failed'; reply: string }
  /** Not sent again: earlier sends were interrupted too often (docs/adr/0005); now `failed`. */
  | { outcome: 'interrupted'; reason: string };

/**
 * Sends one outbox email. Idempotent: only a `pending` row is sent. A permanent SMTP
 * failure, or a temporary one on the last attempt, marks it `failed` with the reply; so
 * does a second interrupted send (an attempt that was marked in doubt — its end of data
 * sent, or about to be — and recorded no outcome, or had no answer after its data), with
 * that reason, instead of a third copy (docs/adr/0005, docs/adr/0026).
 * The row's link placeholders are replaced by their URLs, derived from LINK_SECRET and
 * PUBLIC_URL, in what goes out only: the row keeps the placeholders.
 */
export async function sendEmail(
  deps: {
    db: Db;
    mailer: Mailer;
    logger: Logger;
    config: Pick<Config, 'leaseSeconds' | 'linkSecret' | 'publicUrl'>;
  },
  emailId: string,
  options: { isFinalAttempt: boolean },
): Promise<SendEmailOutcome> {
  // Claim with a lease, so another run of this job cannot send the same email meanwhile.
  const [row] = await deps.db
    .update(emails)
    .set({
      attempts: sql`${emails.attempts} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${deps.config.leaseSeconds})`,
      // Still in doubt means the previous attempt died after its mark and before its
      // outcome: its email may or may not have reached the server. A lease alone does not:
      // a process leases as many emails as it runs jobs, and only a marked one gets its end
      // of data (docs/adr/0026).
      uncertainSends: sql`${emails.uncertainSends} + ${emails.sendInDoubt}::int`,
      sendInDoubt: false,
    })
    .where(
      sql`${emails.id} = ${emailId} and ${emails.state} = 'pending'
          and (${emails.leaseUntil} is null or ${emails.leaseUntil} < now())`,
    )
    .returning();
  if (!row) {
    const [current] = await deps.db.select({ state: emails.state }).from(emails).where(eq(emails.id, emailId));
    if (current?.state === 'pending') throw new RetryableSendError('another attempt is sending this email');
    return { outcome: 'skipped', state: current?.state ?? 'missing' };
  }
  if (interruptedTooOften(row.uncertainSends)) {
    // Resending a message that keeps killing its worker would send it forever. Unlike an
    // offer (assumed sent, so its delegation moves on), a notification has nothing waiting
    // on it: it is failed with the reason, for the operator to see.
    const reason = `Not sent again: ${row.uncertainSends} sends were interrupted before their outcome was recorded (the worker stopped mid-send); the recipient may already have it`;
    await deps.db
      .update(emails)
      .set({ state: 'failed', lastError: reason, leaseUntil: null })
      .where(and(eq(emails.id, emailId), eq(emails.state, 'pending'), eq(emails.attempts, row.attempts)));
    countEmail('notification', 'failed');
    deps.logger.warn({ emailId, interruptedSends: row.uncertainSends }, 'notification email not sent again');
    return { outcome: 'interrupted', reason };
  }
  // Outcomes and marks are written only while this is still the latest attempt: a run that
  // lost its lease (and was overtaken by another) must not clear the newer one's mark.
  const ownAttempt = and(eq(emails.id, emailId), eq(emails.state, 'pending'), eq(emails.attempts, row.attempts));
  // Marks and outcomes of this process share commits with the offers' (lib/commit-group.ts):
  // the mark commits before the end of data, and a record that cannot be written yet stops
  // every later end of data in the process until it is.
  const group = commitGroupOf(deps.db, (error) =>
    deps.logger.warn({ err: error }, 'send outcomes wait for the database'),
  );
  const markInDoubt = async () => {
    const marked = await group.write(
      async (tx) =>
        (await tx.update(emails).set({ sendInDoubt: true }).where(ownAttempt).returning({ id: emails.id })).length ===
        1,
    );
    if (!marked) throw new RetryableSendError('this attempt no longer holds the send');
  };
  // Whatever attempt it is: the server took the email, so it is sent (a newer attempt that
  // sends it too records the same).
  const markSent = () =>
    group.write((tx) =>
      tx
        .update(emails)
        .set({ state: 'sent', sentAt: sql`now()`, lastError: null, leaseUntil: null, sendInDoubt: false })
        .where(eq(emails.id, emailId)),
    );
  const body = fillDerivedLinks({ text: row.textBody, html: row.htmlBody }, row.links, (link) =>
    derivedLinkUrl(deps.config, link),
  );
  try {
    await deps.mailer.sendAndRecord(
      { to: row.toEmail, subject: row.subject, text: body.text, html: body.html, messageId: row.messageId },
      markSent,
      { markInDoubt },
    );
  } catch (error) {
    if (!isSmtpError(error)) throw error; // no end of data without its mark: nothing went out
    const failure = classifySmtpError(error);
    const final = failure.permanent || options.isFinalAttempt;
    countEmail('notification', failure.permanent ? 'rejected' : final ? 'failed' : 'deferred');
    // No answer after the end of data: the server may have the message. Counted as an
    // interrupted send, so a recipient whose every attempt ends so gets at most two copies.
    const inDoubt = deliveryInDoubt(error);
    // Guarded: if this attempt outlived its lease and another one sent the email (or holds
    // it now), a late failure here must not turn `sent` back into `failed`, nor clear the
    // newer attempt's mark.
    await deps.db
      .update(emails)
      .set({
        ...(final ? { state: 'failed' as const } : {}),
        lastError: failure.reply,
        leaseUntil: null,
        sendInDoubt: false,
        uncertainSends: sql`${emails.uncertainSends} + ${inDoubt ? 1 : 0}`,
      })
      .where(ownAttempt);
    if (final) return { outcome: 'failed', reply: failure.reply };
    throw new RetryableSendError(failure.reply, { cause: error });
  }
  countEmail('notification', 'sent');
  return { outcome: 'sent', attempt: row.attempts };
}
