import { and, eq, isNull, sql } from 'drizzle-orm';
import { temporaryPasswordEmail } from '../../core/emails/notifications.ts';
import { interruptedTooOften } from '../../core/interrupted-sends.ts';
import { classifySmtpError, deliveryInDoubt, isSmtpError } from '../../core/smtp-outcome.ts';
import type { Tx } from '../../db/client.ts';
import { operations, type TemporaryPasswordProgress } from '../../db/schema/index.ts';
import { commitGroupOf } from '../../lib/commit-group.ts';
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
 * 2. emailed: the progress is marked in doubt (`inDoubt`) in the message's turn, before
 *    its end of data goes to the server, and the email recorded (`emailedAt`, the sealed
 *    password dropped) as the server takes it — both through the process's one commit
 *    group, like every email's (lib/mailer.ts, docs/adr/0026): at most MAIL_UNCONFIRMED_MAX
 *    messages of a process are ever between the server's reply and their record;
 * 3. set: `apply` (the hash set, the sessions ended) runs once, in its own transaction
 *    (`ctx.authorized`: it may be refused, which no write of the commit group may be),
 *    dropping the hash.
 * A re-run after 1 sends the same email again — same password, same Message-ID. One that
 * finds the mark left (the server may have the email) counts an interrupted send first;
 * at the second it does not send again (docs/adr/0005) and the operation fails without
 * setting the password: the recipient may have it, but nothing changed on assumption.
 * After the email is recorded a re-run sends nothing, and after the set it changes
 * nothing. The email goes before the password is set: a refusal leaves the old password
 * in place, and the operation ends without setting it (the progress is then cleared, so a
 * retry asked for later starts with a new password).
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
  if (!progress.setAt) {
    if (!progress.emailedAt) await sendEmail(ctx, progress, p);
    await setOnce(ctx, progress, p.apply);
  }
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

/** The operation's row while its progress is this preparation's (its Message-ID). */
const ofPreparation = (operationId: string, progress: TemporaryPasswordProgress) =>
  and(eq(operations.id, operationId), sql`${operations.temporaryPassword} ->> 'messageId' = ${progress.messageId}`);

/** …and this run still holds the operation (a run that lost its lease does not). */
const ofThisRun = (ctx: EffectContext, progress: TemporaryPasswordProgress) =>
  and(
    ofPreparation(ctx.operation.id, progress),
    eq(operations.state, 'running'),
    eq(operations.attempts, ctx.operation.attempts),
  );

/**
 * Counts the interrupted send of an earlier run that left its mark (it died between its
 * mark and its record, or had no answer after its data): the number of such sends so far.
 */
async function countInterruptedSend(ctx: EffectContext, progress: TemporaryPasswordProgress): Promise<number> {
  const [counted] = await ctx.deps.db
    .update(operations)
    .set({
      temporaryPassword: sql`(${operations.temporaryPassword} - 'inDoubt') || jsonb_build_object(
        'uncertainSends', coalesce((${operations.temporaryPassword} ->> 'uncertainSends')::int, 0) + 1)`,
    })
    .where(and(ofThisRun(ctx, progress), sql`${operations.temporaryPassword} ? 'inDoubt'`))
    .returning({ progress: operations.temporaryPassword });
  if (!counted?.progress) throw new Error('Another run took over the temporary password meanwhile');
  return counted.progress.uncertainSends ?? 0;
}

/** Step 2: the email, marked in doubt before its end of data and recorded as the server takes it. */
async function sendEmail(
  ctx: EffectContext,
  progress: TemporaryPasswordProgress,
  p: { userEmail: string; kind: 'new-user' | 'reset' },
) {
  const { deps, operation } = ctx;
  const password = openPassword(ctx, progress);
  if (password === null) throw new Error('The temporary password does not open; it will be made anew');
  const interrupted = progress.inDoubt ? await countInterruptedSend(ctx, progress) : (progress.uncertainSends ?? 0);
  if (interruptedTooOften(interrupted)) {
    // Resending an email whose sends keep being interrupted could send it without end; and
    // a password set on assumption could lock the user out with one they never received.
    throw new OperationFailure(
      `The temporary password was not emailed again: ${interrupted} sends to ${progress.sentTo} were interrupted before the mail server's answer was recorded (the recipient may have it); it was not set`,
    );
  }
  const content = temporaryPasswordEmail({
    kind: p.kind,
    userEmail: p.userEmail,
    orgName: ctx.orgName ?? 'the organization',
    password,
    signInUrl: `${deps.config.publicUrl}/sign-in`,
    endUrl: progress.toClientAdmin ? endDelegationUrl(deps.config, operation.delegationId) : undefined,
  });
  // The mark and the record share the commits of every email of this process (offers and
  // notifications too): the mark commits before the end of data, and a record that cannot
  // be written yet stops every later end of data until it is.
  const group = commitGroupOf(deps.db, (error) =>
    deps.logger.warn({ err: error }, 'send outcomes wait for the database'),
  );
  const markInDoubt = async () => {
    const marked = await group.write(
      async (tx) =>
        (
          await tx
            .update(operations)
            .set({ temporaryPassword: sql`${operations.temporaryPassword} || jsonb_build_object('inDoubt', true)` })
            .where(and(ofThisRun(ctx, progress), sql`not (${operations.temporaryPassword} ? 'emailedAt')`))
            .returning({ id: operations.id })
        ).length === 1,
    );
    // Another run holds the operation now, or has recorded the email: this one sends nothing.
    if (!marked) throw new Error('This run no longer holds the temporary password; its email was not sent');
  };
  // Whichever run it is: the server took this email, so a re-run must not send it again.
  const recordEmailed = () =>
    group.write((tx) =>
      tx
        .update(operations)
        .set({
          temporaryPassword: sql`(${operations.temporaryPassword} - 'sealed' - 'inDoubt') || jsonb_build_object('emailedAt', now())`,
        })
        .where(ofPreparation(operation.id, progress)),
    );
  try {
    await deps.mailer.sendAndRecord({ to: progress.sentTo, ...content, messageId: progress.messageId }, recordEmailed, {
      markInDoubt,
    });
  } catch (error) {
    if (!isSmtpError(error)) throw error; // no end of data without its mark: nothing went out
    const failure = classifySmtpError(error);
    if (failure.permanent)
      throw new OperationFailure(`The temporary password could not be emailed to ${progress.sentTo}: ${failure.reply}`);
    // An answer, even a refusal, says the server does not have the email: the mark goes.
    // Silence after the end of data leaves it, and the next run counts an interrupted send.
    // (Should clearing fail, the next run counts one too many: one copy fewer, never more.)
    if (!deliveryInDoubt(error))
      await deps.db
        .update(operations)
        .set({ temporaryPassword: sql`${operations.temporaryPassword} - 'inDoubt'` })
        .where(ofThisRun(ctx, progress))
        .catch(() => undefined);
    throw new Error(`Emailing the temporary password failed: ${failure.reply}`);
  }
}

/**
 * `apply` and its record in one transaction. The record goes first, guarded: it locks the
 * operation's row, and finds it already set when a run that lost its lease got there
 * first — then nothing is applied again.
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
