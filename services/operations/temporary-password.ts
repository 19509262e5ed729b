import { eq } from 'drizzle-orm';
import { temporaryPasswordEmail } from '../../core/emails/notifications.ts';
import { classifySmtpError } from '../../core/smtp-outcome.ts';
import { organizations, users } from '../../db/schema/index.ts';
import { generatePassword, hashPassword } from '../../lib/secrets.ts';
import { type EffectContext, OperationFailure } from './runner.ts';

/**
 * Makes a temporary password and emails it to `to`; returns only its argon2id hash, for
 * the caller to set. The email goes out before the password is set: a refusal leaves the
 * old password in place (nothing changed), and a retry makes a new password — only the
 * last email's works. The password exists nowhere but in that email.
 */
export async function emailTemporaryPassword(
  ctx: EffectContext,
  p: { to: string; userEmail: string; kind: 'new-user' | 'reset' },
): Promise<string> {
  const { deps, operation } = ctx;
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  const [org] = await deps.db
    .select({ name: organizations.name })
    .from(organizations)
    .where(eq(organizations.id, operation.clientOrgId));
  const content = temporaryPasswordEmail({
    kind: p.kind,
    userEmail: p.userEmail,
    orgName: org?.name ?? 'the organization',
    password,
    signInUrl: `${deps.config.publicUrl}/sign-in`,
  });
  try {
    await deps.mailer.send({
      to: p.to,
      ...content,
      messageId: `<${operation.id}.${operation.attempts}@${deps.mailer.messageIdDomain}>`,
    });
  } catch (error) {
    const failure = classifySmtpError(error);
    if (failure.permanent)
      throw new OperationFailure(`The temporary password could not be emailed to ${p.to}: ${failure.reply}`);
    throw new Error(`Emailing the temporary password failed: ${failure.reply}`);
  }
  return passwordHash;
}

/** The staff member who asked (where temporary passwords of non-admin users go by default). */
export async function requesterEmail(ctx: EffectContext): Promise<string> {
  const [requester] = await ctx.deps.db
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, ctx.operation.requestedBy));
  if (!requester) throw new OperationFailure('The staff member who asked no longer exists');
  return requester.email;
}
