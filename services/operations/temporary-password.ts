import { temporaryPasswordEmail } from '../../core/emails/notifications.ts';
import { classifySmtpError } from '../../core/smtp-outcome.ts';
import { newTemporaryPassword } from '../../lib/secrets.ts';
import { endDelegationUrl } from '../mail/end-links.ts';
import { type EffectContext, OperationFailure } from './runner.ts';

/**
 * Makes a temporary password and emails it to `to` (null: the staff member who asked);
 * returns only its argon2id hash, for the caller to set, and where it went. Sent to a
 * global admin of the client (`toClientAdmin`), it carries the delegation's end link: a
 * partner resetting the admin's password cannot keep them from ending it. The email goes
 * out before the password is set: a refusal leaves the old password in place (nothing
 * changed), and a retry makes a new password — only the last email's works. The password
 * exists nowhere but in that email.
 */
export async function emailTemporaryPassword(
  ctx: EffectContext,
  p: { to: string | null; userEmail: string; kind: 'new-user' | 'reset'; toClientAdmin?: boolean },
): Promise<{ passwordHash: string; sentTo: string }> {
  const { deps, operation } = ctx;
  // ≥ 128 random bits, hashed with argon2id at its lowest cost (ADR 8).
  const { password, passwordHash } = await newTemporaryPassword();
  const to = p.to ?? requesterEmail(ctx);
  const content = temporaryPasswordEmail({
    kind: p.kind,
    userEmail: p.userEmail,
    orgName: ctx.orgName ?? 'the organization',
    password,
    signInUrl: `${deps.config.publicUrl}/sign-in`,
    endUrl: p.toClientAdmin ? endDelegationUrl(deps.config, operation.delegationId) : undefined,
  });
  try {
    await deps.mailer.send({
      to,
      ...content,
      messageId: `<${operation.id}.${operation.attempts}@${deps.mailer.messageIdDomain}>`,
    });
  } catch (error) {
    const failure = classifySmtpError(error);
    if (failure.permanent)
      throw new OperationFailure(`The temporary password could not be emailed to ${to}: ${failure.reply}`);
    throw new Error(`Emailing the temporary password failed: ${failure.reply}`);
  }
  return { passwordHash, sentTo: to };
}

/** The staff member who asked (where temporary passwords of non-admin users go by default). */
export function requesterEmail(ctx: EffectContext): string {
  if (!ctx.requesterEmail) throw new OperationFailure('The staff member who asked no longer exists');
  return ctx.requesterEmail;
}
