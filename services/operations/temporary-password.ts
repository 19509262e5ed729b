import { eq, sql } from 'drizzle-orm';
import { temporaryPasswordEmail } from '../../core/emails/notifications.ts';
import { classifySmtpError } from '../../core/smtp-outcome.ts';
import { organizations, users } from '../../db/schema/index.ts';
import { generatePassword, hashPassword } from '../../lib/secrets.ts';
import { endAllSessions } from '../sessions.ts';
import { type EffectContext, OperationFailure } from './runner.ts';

/**
 * Gives a user a new temporary password (which must be changed at the next sign-in),
 * ends their sessions, and emails the password to `to`. The password exists only in
 * memory and in that email: a retry makes a new one, so only the last email's works.
 */
export async function issueTemporaryPassword(
  ctx: EffectContext,
  user: { id: string; email: string },
  to: string,
  kind: 'new-user' | 'reset',
): Promise<void> {
  const { deps, operation } = ctx;
  const password = generatePassword();
  await deps.db
    .update(users)
    .set({ passwordHash: await hashPassword(password), mustChangePassword: true })
    .where(eq(users.id, user.id));
  await endAllSessions(deps.db, user.id);
  const [org] = await deps.db
    .select({ name: organizations.name })
    .from(organizations)
    .where(eq(organizations.id, operation.clientOrgId));
  const content = temporaryPasswordEmail({
    kind,
    userEmail: user.email,
    orgName: org?.name ?? 'the organization',
    password,
    signInUrl: `${deps.config.publicUrl}/sign-in`,
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
}

/** Who receives a temporary password: the address given, else the staff member who asked. */
export async function passwordRecipient(ctx: EffectContext, notifyEmail: unknown): Promise<string> {
  if (typeof notifyEmail === 'string' && notifyEmail) return notifyEmail;
  const [requester] = await ctx.deps.db
    .select({ email: users.email })
    .from(users)
    .where(sql`${users.id} = ${ctx.operation.requestedBy}`);
  if (!requester) throw new OperationFailure('The staff member who asked no longer exists');
  return requester.email;
}
