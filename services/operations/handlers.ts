import { and, eq, sql } from 'drizzle-orm';
import { isSameOrSubdomain, txtRecordsMatch } from '../../core/domain-names.ts';
import { newId } from '../../core/ids.ts';
import { passwordResetCapability } from '../../core/permissions.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { domains, operations, users } from '../../db/schema/index.ts';
import { createTxtLookup } from '../../lib/dns.ts';
import { OperationFailure, type OperationHandler } from './runner.ts';
import { issueTemporaryPassword, passwordRecipient } from './temporary-password.ts';

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Creates the user (once: a rerun finds the one it created), then issues its temporary
 * password to `notifyEmail` or to the staff member who asked.
 */
export const provisionUser: OperationHandler = {
  capability: async () => 'provision_user',
  async run(ctx) {
    const { deps, operation } = ctx;
    const email = str(operation.input.email);
    const user = await deps.db
      .transaction(async (tx) => {
        const [existing] = await tx
          .select({ id: users.id, orgId: users.orgId })
          .from(users)
          .where(sql`lower(${users.email}) = lower(${email})`);
        if (existing) {
          if (existing.orgId === operation.clientOrgId && operation.result?.userId === existing.id) return existing;
          throw new OperationFailure(`${email} is already in use`);
        }
        const id = newId('user');
        await tx.insert(users).values({
          id,
          orgId: operation.clientOrgId,
          email,
          displayName: str(operation.input.displayName),
          // Unusable until the temporary password below is set.
          passwordHash: '!',
          mustChangePassword: true,
        });
        // Remember what this operation created, in the same transaction, for a rerun.
        await tx
          .update(operations)
          .set({ result: { userId: id } })
          .where(eq(operations.id, operation.id));
        return { id, orgId: operation.clientOrgId };
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new OperationFailure(`${email} is already in use`);
        throw error;
      });
    const to = await passwordRecipient(ctx, operation.input.notifyEmail);
    await issueTemporaryPassword(ctx, { id: user.id, email }, to, 'new-user');
    return { userId: user.id, email, temporaryPasswordSentTo: to };
  },
};

/** Sets a new temporary password for a user of the organization and ends their sessions. */
export const resetPassword: OperationHandler = {
  async capability(db, operation) {
    const [target] = await db
      .select({ isGlobalAdmin: users.isGlobalAdmin })
      .from(users)
      .where(eq(users.id, str(operation.input.userId)));
    // A target that became an admin meanwhile needs the admin capability now.
    return passwordResetCapability(target?.isGlobalAdmin ?? true);
  },
  async run(ctx) {
    const { deps, operation } = ctx;
    const [user] = await deps.db
      .select({ id: users.id, email: users.email })
      .from(users)
      .where(and(eq(users.id, str(operation.input.userId)), eq(users.orgId, operation.clientOrgId)));
    if (!user) throw new OperationFailure('The user no longer exists in this organization');
    const to = await passwordRecipient(ctx, undefined);
    await issueTemporaryPassword(ctx, user, to, 'reset');
    return { userId: user.id, temporaryPasswordSentTo: to };
  },
};

async function coveringVerifiedRoot(ctx: Parameters<OperationHandler['run']>[0], name: string): Promise<string | null> {
  const verified = await ctx.deps.db
    .select({ name: domains.name })
    .from(domains)
    .where(and(eq(domains.orgId, ctx.operation.clientOrgId), eq(domains.state, 'verified')));
  return verified.find((d) => d.name !== name && isSameOrSubdomain(name, d.name))?.name ?? null;
}

/** Adds the domain, pending verification — or verified at once under a verified root. */
export const addDomain: OperationHandler = {
  capability: async () => 'add_domain',
  async run(ctx) {
    const { deps, operation } = ctx;
    const name = str(operation.input.name);
    const root = await coveringVerifiedRoot(ctx, name);
    const id = newId('domain');
    const [inserted] = await deps.db
      .insert(domains)
      .values({
        id,
        orgId: operation.clientOrgId,
        name,
        verificationToken: str(operation.input.token),
        ...(root ? { state: 'verified' as const, verifiedAt: sql`now()` } : {}),
      })
      .onConflictDoNothing()
      .returning();
    if (inserted) return { domainId: inserted.id, name, state: inserted.state, ...(root ? { coveredBy: root } : {}) };
    const [existing] = await deps.db
      .select()
      .from(domains)
      .where(and(eq(domains.orgId, operation.clientOrgId), eq(domains.name, name)));
    // A rerun finds the row it wrote; anything else was added by someone else.
    if (existing?.verificationToken === str(operation.input.token))
      return { domainId: existing.id, name, state: existing.state };
    throw new OperationFailure(`${name} has already been added to this organization`);
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
    const root = await coveringVerifiedRoot(ctx, name);
    const lookup = root ? null : await createTxtLookup(deps.config.dnsServers)(name);
    const found = lookup?.ok ? lookup.records : [];
    if (root || txtRecordsMatch(found, domain.verificationToken)) {
      await deps.db
        .update(domains)
        .set({ state: 'verified', verifiedAt: sql`now()`, lastCheckedAt: sql`now()`, lastFound: null })
        .where(eq(domains.id, domain.id));
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
    const ageSeconds = (Date.now() - operation.createdAt.getTime()) / 1000;
    const expected = `mandate-verification=${domain.verificationToken}`;
    if (ageSeconds >= deps.config.domainVerifyDeadlineSeconds) {
      throw new OperationFailure(
        `No TXT record "${expected}" at ${name} before the deadline; found: ${seen.slice(0, 500)}`,
      );
    }
    throw new Error(`TXT record "${expected}" not found at ${name} yet; found: ${seen.slice(0, 500)}`);
  },
};
