import { and, eq, sql } from 'drizzle-orm';
import { type DerivedLinks, fillDerivedLinks } from '../../core/emails/derived-links.ts';
import type { RenderedEmail } from '../../core/emails/offer-email.ts';
import { newId } from '../../core/ids.ts';
import { interruptedTooOften } from '../../core/interrupted-sends.ts';
import { classifySmtpError, isSmtpError, RetryableSendError } from '../../core/smtp-outcome.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { emails } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Mailer } from '../../lib/mailer.ts';
import { countEmail } from '../../lib/metrics.ts';
import { withRetries } from '../../lib/retry.ts';
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
 * does a second interrupted send (a claim whose attempt never recorded an outcome), with
 * that reason, instead of a third copy (docs/adr/0005).
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
      // A lease still set means the previous attempt died between claim and outcome (every
      // outcome clears it): its email may or may not have reached the server.
      uncertainSends: sql`${emails.uncertainSends} + (${emails.leaseUntil} is not null)::int`,
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
  const markSent = () =>
    withRetries(() =>
      deps.db
        .update(emails)
        .set({ state: 'sent', sentAt: sql`now()`, lastError: null, leaseUntil: null })
        .where(eq(emails.id, emailId)),
    );
  const body = fillDerivedLinks({ text: row.textBody, html: row.htmlBody }, row.links, (link) =>
    derivedLinkUrl(deps.config, link),
  );
  try {
    await deps.mailer.sendAndRecord(
      { to: row.toEmail, subject: row.subject, text: body.text, html: body.html, messageId: row.messageId },
      markSent,
    );
  } catch (error) {
    if (!isSmtpError(error)) throw error;
    const failure = classifySmtpError(error);
    const final = failure.permanent || options.isFinalAttempt;
    countEmail('notification', failure.permanent ? 'rejected' : final ? 'failed' : 'deferred');
    // Guarded: if this attempt outlived its lease and another one sent the email, a late
    // failure here must not turn `sent` back into `failed`.
    await deps.db
      .update(emails)
      .set({ ...(final ? { state: 'failed' as const } : {}), lastError: failure.reply, leaseUntil: null })
      .where(and(eq(emails.id, emailId), eq(emails.state, 'pending')));
    if (final) return { outcome: 'failed', reply: failure.reply };
    throw new RetryableSendError(failure.reply, { cause: error });
  }
  countEmail('notification', 'sent');
  return { outcome: 'sent', attempt: row.attempts };
}
