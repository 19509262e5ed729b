import { and, eq, isNull, sql } from 'drizzle-orm';
import { temporaryPasswordEmail } from '../../core/emails/notifications.ts';
import { classifySmtpError, isSmtpError } from '../../core/smtp-outcome.ts';
import type { Tx } from '../../db/client.ts';
import { operations, type TemporaryPasswordProgress } from '../../db/schema/index.ts';
import { withRetries } from '../../lib/retry.ts';
import { openSecret, sealSecret } from '../../lib/secret-box.ts';
import { newTemporaryPassword } from '../../lib/secrets.ts';
import { endDelegationUrl } from '../mail/end-links.ts';
import { type EffectContext, OperationFailure } from './runner.ts';

/**
 * Gives a user a temporary password, emailed to `to` (null: the staff member who asked),
 * once per operation whatever stops when. Sent to a global admin of the client
 * (`toClientAdmin`), the email carries the delegation's end link: a partner resetting the
 * admin's password cannot keep them from ending it.
 *
 * Its progress is recorded on the operation (`temporary_password`) so that a re-run — a
 * worker killed, a lease lost, a write that failed — continues where the last run stopped:
 * 1. prepared: a new password (ADR 8), its hash, the password sealed, the address and a
 *    Message-ID;
 * 2. emailed and set: as the SMTP server takes the email, `apply` (the hash set, the
 *    sessions ended) runs in the transaction that records both, in the mailer's turn
 *    (`sendAndRecord`: at most one message of a process between the server's reply and its
 *    record), dropping the sealed password and the hash. When the set fails there, the
 *    email alone is recorded (`emailedAt`), and a re-run only sets the password.
 * A re-run after 1 sends the same email again — same password, same Message-ID: the
 * at-least-once bound of every email; after the email is recorded it sends nothing, and
 * after the set it changes nothing. The email goes before the password is set: a refusal
 * leaves the old password in place, and the operation ends without setting it (the
 * progress is then cleared, so a retry asked for later starts with a new password).
 */
export async function giveTemporaryPassword(
  ctx: EffectContext,
  p: {
    to: string | null;
    userEmail: string;
    kind: 'new-user' | 'reset';
    toClientAdmin?: boolean;
    /** Sets `hash` as the user's password; runs once, in `ctx.authorized`. */
    apply: (tx: Tx, progress: TemporaryPasswordProgress & { hash: string }) => Promise<void>;
  },
): Promise<{ sentTo: string }> {
  const recorded = ctx.operation.temporaryPassword;
  const progress =
    !recorded || (!recorded.emailedAt && !recorded.setAt && openPassword(ctx, recorded) === null)
      ? await prepare(ctx, recorded, { to: p.to ?? requesterEmail(ctx), toClientAdmin: !!p.toClientAdmin })
      : recorded;
  const set = () => setOnce(ctx, progress, p.apply);
  if (!progress.setAt) await (progress.emailedAt ? set() : sendEmail(ctx, progress, p, set));
  return { sentTo: progress.sentTo };
}

const sealContext = (operationId: string) => `temporary-password:${operationId}`;

function openPassword(ctx: EffectContext, progress: TemporaryPasswordProgress): string | null {
  return progress.sealed
    ? openSecret(ctx.deps.config.linkSecret, progress.sealed, sealContext(ctx.operation.id))
    : null;
}

/**
 * Step 1. Replaces `previous` (none, or one whose sealed password no longer opens: another
 * LINK_SECRET) only if it is still there; otherwise another run prepared first, and its
 * password is the one.
 */
async function prepare(
  ctx: EffectContext,
  previous: TemporaryPasswordProgress | null,
  p: { to: string; toClientAdmin: boolean },
): Promise<TemporaryPasswordProgress> {
  const { deps, operation } = ctx;
  // ≥ 128 random bits, hashed with argon2id at its lowest cost (ADR 8).
  const { password, passwordHash } = await newTemporaryPassword();
  const prepared: TemporaryPasswordProgress = {
    sentTo: p.to,
    // Per preparation, not per attempt: every copy of this email has the same one.
    messageId: `<${operation.id}.${operation.attempts}@${deps.mailer.messageIdDomain}>`,
    toClientAdmin: p.toClientAdmin,
    hash: passwordHash,
    sealed: sealSecret(deps.config.linkSecret, password, sealContext(operation.id)),
  };
  const [written] = await deps.db
    .update(operations)
    .set({ temporaryPassword: prepared })
    .where(
      and(
        eq(operations.id, operation.id),
        // Only while it runs: a run that lost its lease must not prepare for an operation
        // another run has already ended.
        eq(operations.state, 'running'),
        previous
          ? sql`${operations.temporaryPassword} ->> 'messageId' = ${previous.messageId}`
          : isNull(operations.temporaryPassword),
      ),
    )
    .returning({ id: operations.id });
  if (written) return prepared;
  const [current] = await deps.db
    .select({ progress: operations.temporaryPassword })
    .from(operations)
    .where(eq(operations.id, operation.id));
  if (!current?.progress) throw new Error('The temporary password was prepared and cleared meanwhile');
  return current.progress;
}

/** Step 2: the email, recorded with the set (`set`) in the mailer's turn — or alone, if the set fails. */
async function sendEmail(
  ctx: EffectContext,
  progress: TemporaryPasswordProgress,
  p: { userEmail: string; kind: 'new-user' | 'reset' },
  set: () => Promise<void>,
) {
  const { deps, operation } = ctx;
  const password = openPassword(ctx, progress);
  if (password === null) throw new Error('The temporary password does not open; it will be made anew');
  const content = temporaryPasswordEmail({
    kind: p.kind,
    userEmail: p.userEmail,
    orgName: ctx.orgName ?? 'the organization',
    password,
    signInUrl: `${deps.config.publicUrl}/sign-in`,
    endUrl: progress.toClientAdmin ? endDelegationUrl(deps.config, operation.delegationId) : undefined,
  });
  const recordEmailed = () =>
    deps.db
      .update(operations)
      .set({
        temporaryPassword: sql`(${operations.temporaryPassword} - 'sealed') || jsonb_build_object('emailedAt', now())`,
      })
      .where(
        and(
          eq(operations.id, operation.id),
          sql`${operations.temporaryPassword} ->> 'messageId' = ${progress.messageId}`,
        ),
      );
  const record = async () => {
    try {
      await set();
    } catch (error) {
      // Whatever stopped the set (a refusal, the database), the server took the email: a
      // passing database error must not make a re-run send it again.
      await withRetries(recordEmailed).catch(() => undefined);
      throw error;
    }
  };
  try {
    await deps.mailer.sendAndRecord({ to: progress.sentTo, ...content, messageId: progress.messageId }, record);
  } catch (error) {
    if (!isSmtpError(error)) throw error;
    const failure = classifySmtpError(error);
    if (failure.permanent)
      throw new OperationFailure(`The temporary password could not be emailed to ${progress.sentTo}: ${failure.reply}`);
    throw new Error(`Emailing the temporary password failed: ${failure.reply}`);
  }
}

/**
 * `apply` and its record in one transaction (the email's too, when it is not recorded
 * yet). The record goes first, guarded: it locks the operation's row, and finds it
 * already set when a run that lost its lease got there first — then nothing is applied
 * again.
 */
async function setOnce(
  ctx: EffectContext,
  progress: TemporaryPasswordProgress,
  apply: (tx: Tx, progress: TemporaryPasswordProgress & { hash: string }) => Promise<void>,
) {
  const { hash } = progress;
  if (!hash) throw new Error('The temporary password has no hash to set');
  await ctx.authorized(async (tx) => {
    const [marked] = await tx
      .update(operations)
      .set({
        temporaryPassword: sql`(${operations.temporaryPassword} - 'hash' - 'sealed') || jsonb_build_object(
          'emailedAt', coalesce(${operations.temporaryPassword} -> 'emailedAt', to_jsonb(now())), 'setAt', now())`,
      })
      .where(
        and(
          eq(operations.id, ctx.operation.id),
          eq(operations.state, 'running'),
          sql`${operations.temporaryPassword} ->> 'messageId' = ${progress.messageId}`,
          sql`not (${operations.temporaryPassword} ? 'setAt')`,
        ),
      )
      .returning({ id: operations.id });
    if (marked) await apply(tx, { ...progress, hash });
  });
}

/** The staff member who asked (where temporary passwords of non-admin users go by default). */
export function requesterEmail(ctx: EffectContext): string {
  if (!ctx.requesterEmail) throw new OperationFailure('The staff member who asked no longer exists');
  return ctx.requesterEmail;
}
