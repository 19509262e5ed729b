import { and, eq, ne, sql } from 'drizzle-orm';
import { isSameOrSubdomain, txtRecordsMatch, VERIFICATION_PREFIX } from '../../core/domain-names.ts';
import { newId } from '../../core/ids.ts';
import { passwordResetCapability } from '../../core/permissions.ts';
import type { DbOrTx } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { domains, operations, sessions, users } from '../../db/schema/index.ts';
import { createTxtLookup } from '../../lib/dns.ts';
import { type EffectContext, OperationFailure, type OperationHandler } from './runner.ts';
import { emailTemporaryPassword, requesterEmail } from './temporary-password.ts';

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Sets a password hash as a temporary one and ends the user's sessions (inside `authorized`). */
async function setTemporaryPassword(
  tx: Parameters<Parameters<EffectContext['authorized']>[0]>[0],
  userId: string,
  hash: string,
  onlyNonAdmin: boolean,
) {
  const [updated] = await tx
    .update(users)
    .set({ passwordHash: hash, mustChangePassword: true })
    .where(and(eq(users.id, userId), onlyNonAdmin ? eq(users.isGlobalAdmin, false) : undefined))
    .returning({ id: users.id });
  if (!updated)
    throw new OperationFailure('The user is now an administrator; a limited reset may not change its password');
  await tx.delete(sessions).where(eq(sessions.userId, userId));
}

/**
 * Creates the user (once: a rerun finds the one it created), emails its temporary
 * password to `notifyEmail` or to the staff member who asked, then sets it.
 */
export const provisionUser: OperationHandler = {
  capability: async () => 'provision_user',
  async run(ctx) {
    const { operation } = ctx;
    const email = str(operation.input.email);
    const userId = await ctx
      .authorized(async (tx) => {
        const [existing] = await tx
          .select({ id: users.id, orgId: users.orgId })
          .from(users)
          .where(sql`lower(${users.email}) = lower(${email})`);
        const [progress] = await tx
          .select({ result: operations.result })
          .from(operations)
          .where(eq(operations.id, operation.id));
        if (existing) {
          if (existing.orgId === operation.clientOrgId && progress?.result?.userId === existing.id) return existing.id;
          throw new OperationFailure(`${email} is already in use`);
        }
        const id = newId('user');
        // Unusable until the temporary password below is set.
        await tx.insert(users).values({
          id,
          orgId: operation.clientOrgId,
          email,
          displayName: str(operation.input.displayName),
          passwordHash: '!',
          mustChangePassword: true,
        });
        // What this operation created, in the same transaction: for a rerun, and so a later
        // failure still reports it.
        await tx
          .update(operations)
          .set({ result: { userId: id, email } })
          .where(eq(operations.id, operation.id));
        await ctx.audit(tx, { action: 'user.create', targetType: 'user', targetId: id, detail: { email } });
        return id;
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new OperationFailure(`${email} is already in use`);
        throw error;
      });
    const to = str(operation.input.notifyEmail) || (await requesterEmail(ctx));
    const hash = await emailTemporaryPassword(ctx, { to, userEmail: email, kind: 'new-user' });
    await ctx.authorized(async (tx) => {
      await setTemporaryPassword(tx, userId, hash, false);
      await ctx.audit(tx, {
        action: 'user.temporary_password',
        targetType: 'user',
        targetId: userId,
        detail: { sentTo: to },
      });
    });
    return { userId, email, temporaryPasswordSentTo: to };
  },
};

/**
 * Gives a user of the organization a temporary password and ends their sessions. A
 * non-admin's goes to the staff member who asked; a global admin's goes to the admin's
 * own address — never to the partner, who could otherwise take the account over.
 */
export const resetPassword: OperationHandler = {
  async capability(db, operation) {
    const [target] = await db
      .select({ isGlobalAdmin: users.isGlobalAdmin })
      .from(users)
      .where(eq(users.id, str(operation.input.userId)));
    return passwordResetCapability(target?.isGlobalAdmin ?? false);
  },
  async run(ctx) {
    const { deps, operation } = ctx;
    const [user] = await deps.db
      .select({ id: users.id, email: users.email, isGlobalAdmin: users.isGlobalAdmin })
      .from(users)
      .where(and(eq(users.id, str(operation.input.userId)), eq(users.orgId, operation.clientOrgId)));
    if (!user) throw new OperationFailure('The user no longer exists in this organization');
    const to = user.isGlobalAdmin ? user.email : await requesterEmail(ctx);
    const hash = await emailTemporaryPassword(ctx, { to, userEmail: user.email, kind: 'reset' });
    await ctx.authorized(async (tx) => {
      await setTemporaryPassword(tx, user.id, hash, !user.isGlobalAdmin);
      await ctx.audit(tx, {
        action: 'user.password_reset',
        targetType: 'user',
        targetId: user.id,
        detail: { sentTo: to },
      });
    });
    return { userId: user.id, temporaryPasswordSentTo: to };
  },
};

/** The verified domain of this organization that covers `name`, if any. */
async function coveringVerifiedRoot(db: DbOrTx, orgId: string, name: string): Promise<string | null> {
  const verified = await db
    .select({ name: domains.name })
    .from(domains)
    .where(and(eq(domains.orgId, orgId), eq(domains.state, 'verified')));
  return verified.find((d) => d.name !== name && isSameOrSubdomain(name, d.name))?.name ?? null;
}

/** Another organization that verified `name`, a parent of it, or a child of it. */
async function verifiedElsewhere(db: DbOrTx, orgId: string, name: string): Promise<string | null> {
  const [other] = await db
    .select({ name: domains.name })
    .from(domains)
    .where(
      and(
        ne(domains.orgId, orgId),
        eq(domains.state, 'verified'),
        sql`(${domains.name} = ${name} or ${name} like '%.' || ${domains.name} or ${domains.name} like '%.' || ${name})`,
      ),
    )
    .limit(1);
  return other?.name ?? null;
}

/** Adds the domain, pending verification — or verified at once under a verified root. */
export const addDomain: OperationHandler = {
  capability: async () => 'add_domain',
  async run(ctx) {
    const { operation } = ctx;
    const name = str(operation.input.name);
    const token = str(operation.input.token);
    return ctx.authorized(async (tx) => {
      const [existing] = await tx
        .select()
        .from(domains)
        .where(and(eq(domains.orgId, operation.clientOrgId), eq(domains.name, name)));
      // A rerun finds the row it wrote; anything else was added by someone else.
      if (existing) {
        if (existing.verificationToken === token) return { domainId: existing.id, name, state: existing.state };
        throw new OperationFailure(`${name} has already been added to this organization`);
      }
      const root = await coveringVerifiedRoot(tx, operation.clientOrgId, name);
      const id = newId('domain');
      const verified = root !== null && (await verifiedElsewhere(tx, operation.clientOrgId, name)) === null;
      await tx.insert(domains).values({
        id,
        orgId: operation.clientOrgId,
        name,
        verificationToken: token,
        ...(verified ? { state: 'verified' as const, verifiedAt: sql`now()` } : {}),
      });
      await ctx.audit(tx, { action: 'domain.add', targetType: 'domain', targetId: id, detail: { name, verified } });
      return { domainId: id, name, state: verified ? 'verified' : 'pending', ...(verified ? { coveredBy: root } : {}) };
    });
  },
};

/** Looks for the verification TXT record; retried with backoff until it appears or the deadline passes. */
export const verifyDomain: OperationHandler = {
  capability: async () => 'verify_domain',
  async run(ctx) {
    const { deps, operation } = ctx;
    const name = str(operation.input.name);
    const [domain] = await deps.db
      .select()
      .from(domains)
      .where(and(eq(domains.orgId, operation.clientOrgId), eq(domains.name, name)));
    if (!domain) throw new OperationFailure(`${name} is not a domain of this organization`);
    if (domain.state === 'verified') return { domainId: domain.id, name, state: 'verified' };
    const elsewhere = await verifiedElsewhere(deps.db, operation.clientOrgId, name);
    if (elsewhere) throw new OperationFailure(`${elsewhere} is verified by another organization`);
    const root = await coveringVerifiedRoot(deps.db, operation.clientOrgId, name);
    // The lookup happens outside any transaction (it can take seconds); the write that
    // follows checks the permission again.
    const lookup = root ? null : await createTxtLookup(deps.config.dnsServers)(name);
    const found = lookup?.ok ? lookup.records : [];
    if (root || txtRecordsMatch(found, domain.verificationToken)) {
      await ctx.authorized(async (tx) => {
        await tx
          .update(domains)
          .set({ state: 'verified', verifiedAt: sql`now()`, lastCheckedAt: sql`now()`, lastFound: null })
          .where(eq(domains.id, domain.id));
        await ctx.audit(tx, { action: 'domain.verify', targetType: 'domain', targetId: domain.id, detail: { name } });
      });
      return { domainId: domain.id, name, state: 'verified', ...(root ? { coveredBy: root } : {}) };
    }
    const seen =
      lookup && !lookup.ok
        ? lookup.error
        : found.length > 0
          ? found.map((r) => r.join('')).join(' | ')
          : 'no TXT records';
    await deps.db
      .update(domains)
      .set({ lastCheckedAt: sql`now()`, lastFound: seen.slice(0, 2000) })
      .where(eq(domains.id, domain.id));
    const expected = `${VERIFICATION_PREFIX}${domain.verificationToken}`;
    const ageSeconds = (Date.now() - (operation.retriedAt ?? operation.createdAt).getTime()) / 1000;
    if (ageSeconds >= deps.config.domainVerifyDeadlineSeconds) {
      throw new OperationFailure(
        `No TXT record "${expected}" at ${name} before the deadline; found: ${seen.slice(0, 500)}`,
      );
    }
    throw new Error(`TXT record "${expected}" not found at ${name} yet; found: ${seen.slice(0, 500)}`);
  },
};
