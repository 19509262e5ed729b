import { eq, sql } from 'drizzle-orm';
import { confirmSignupEmail, signupExistsEmail } from '../../core/emails/notifications.ts';
import { AppError } from '../../core/errors.ts';
import { signups, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { hashPassword, randomToken, sha256Hex } from '../../lib/secrets.ts';
import { notifyContext } from '../mail/notifications.ts';
import { enqueueEmails, recordEmails } from '../mail/outbox.ts';
import { userEmailIs } from '../shared/users.ts';
import { createClientOrganization, type NewClientOrganization } from './client-accounts.ts';

/** How long a confirmation link works. */
export const SIGNUP_TTL_MINUTES = 60;

/**
 * Starts creating an organization for an address nobody has proven yet: stores the
 * request and emails a confirmation link to the address. If the address already has an
 * account, that email says so instead. The caller shows the same page either way, so
 * this reveals nothing about which addresses exist — nor does the time it takes: the
 * password is hashed on both paths (it was the one slow step only new addresses took).
 */
export async function startSignup(
  deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>,
  input: NewClientOrganization & { returnTo: string },
): Promise<void> {
  const ctx = notifyContext(deps.config);
  const passwordHash = await hashPassword(input.password);
  const token = randomToken(32);
  const id = sha256Hex(token);
  const emailIds = await deps.db.transaction(async (tx) => {
    // One statement on both paths: the request is stored only if the address has no
    // account — so a known address does not skip a round trip a new one pays.
    const [row] = await tx.execute(sql`
      with stored as (
        insert into ${signups} (id, email, org_name, admin_name, password_hash, return_to, expires_at)
        select ${id}, ${input.email}, ${input.orgName}, ${input.adminName}, ${passwordHash}, ${input.returnTo},
          now() + make_interval(mins => ${SIGNUP_TTL_MINUTES})
        where not exists (select 1 from ${users} where ${userEmailIs(input.email)})
        returning id
      )
      select not exists (select 1 from stored) as has_account`);
    const hasAccount = row?.has_account === true;
    if (hasAccount) {
      // At most one such notice per address and hour: the form must not become a way to spam someone.
      const hour = new Date().toISOString().slice(0, 13);
      return recordEmails(tx, ctx.messageIdDomain, [
        {
          dedupeKey: `signup-exists.${input.email.toLowerCase()}.${hour}`,
          kind: 'signup-exists',
          toEmail: input.email,
          content: signupExistsEmail({ signInUrl: `${ctx.publicUrl}${input.returnTo}` }),
        },
      ]);
    }
    return recordEmails(tx, ctx.messageIdDomain, [
      {
        dedupeKey: `signup.${id}`,
        kind: 'confirm-signup',
        toEmail: input.email,
        content: confirmSignupEmail({ orgName: input.orgName, link: `${ctx.publicUrl}/signup/${token}` }),
      },
    ]);
  });
  await enqueueEmails(deps, emailIds);
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/** The pending signup behind a confirmation link, or a 410 when it is unknown, used or expired. */
export async function findSignup(deps: Pick<Deps, 'db'>, token: string) {
  const [row] = tokenShape.test(token)
    ? await deps.db
        .select({ orgName: signups.orgName, email: signups.email })
        .from(signups)
        .where(sql`${signups.id} = ${sha256Hex(token)} and ${signups.usedAt} is null and ${signups.expiresAt} > now()`)
    : [];
  if (!row)
    throw new AppError(
      'OFFER_LINK_GONE',
      'This confirmation link has expired or was already used. Start again from the offer.',
    );
  return row;
}

/** Uses a confirmation link (once): creates the organization and its global admin. */
export async function confirmSignup(
  deps: Pick<Deps, 'db'>,
  token: string,
): Promise<{ userId: string; returnTo: string }> {
  if (!tokenShape.test(token)) throw new AppError('OFFER_LINK_GONE', 'This confirmation link is not valid.');
  const [claimed] = await deps.db
    .update(signups)
    .set({ usedAt: sql`now()` })
    .where(sql`${signups.id} = ${sha256Hex(token)} and ${signups.usedAt} is null and ${signups.expiresAt} > now()`)
    .returning();
  if (!claimed)
    throw new AppError(
      'OFFER_LINK_GONE',
      'This confirmation link has expired or was already used. Start again from the offer.',
    );
  const { userId } = await createClientOrganization(deps.db, {
    orgName: claimed.orgName,
    adminName: claimed.adminName,
    email: claimed.email,
    passwordHash: claimed.passwordHash,
  });
  await deps.db.delete(signups).where(eq(signups.email, claimed.email));
  return { userId, returnTo: claimed.returnTo };
}
