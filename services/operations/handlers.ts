import { and, eq, ne, sql } from 'drizzle-orm';
import {
  domainCheckPauseMs,
  inAbout,
  isSameOrSubdomain,
  txtRecordsMatch,
  VERIFICATION_PREFIX,
} from '../../core/domain-names.ts';
import { newId } from '../../core/ids.ts';
import type { OperationKind } from '../../core/operation-kinds.ts';
import { passwordResetCapability } from '../../core/permissions.ts';
import type { DbOrTx, Tx } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { domains, operations, users } from '../../db/schema/index.ts';
import { createTxtLookup } from '../../lib/dns.ts';
import { endSessionsQuery, endSignInChallengesQuery } from '../accounts/sessions.ts';
import { notifyContext, notifyPasswordReset } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { findUserByEmail } from '../shared/users.ts';
import { type EffectContext, OperationFailure, type OperationHandler, OperationWaits, runPrepared } from './runner.ts';
import { giveTemporaryPassword } from './temporary-password.ts';

type AuditEvent = Parameters<EffectContext['audit']>[1];

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Sets a password hash as a temporary one and ends the user's sessions and pending
 * sign-ins (inside `authorized`), with the audit event: the statements go out together.
 */
async function setTemporaryPassword(
  ctx: EffectContext,
  tx: Tx,
  p: { userId: string; hash: string; onlyNonAdmin: boolean; audit: AuditEvent },
) {
  const [[updated]] = await Promise.all([
    runPrepared(
      tx
        .update(users)
        .set({ passwordHash: p.hash, mustChangePassword: true })
        .where(and(eq(users.id, p.userId), p.onlyNonAdmin ? eq(users.isGlobalAdmin, false) : undefined))
        .returning({ id: users.id }),
    ),
    runPrepared(endSessionsQuery(tx, p.userId)),
    runPrepared(endSignInChallengesQuery(tx, p.userId)),
    ctx.audit(tx, p.audit),
  ]);
  // Throwing rolls them all back.
  if (!updated)
    throw new OperationFailure('The user is now an administrator; a limited reset may not change its password');
}

/**
 * Creates the user with an unusable password, records it as this operation's progress and
 * audits it — or, when `rerun`, first looks for the user an earlier run of this operation
 * created and returns that one.
 */
function createUser(ctx: EffectContext, email: string, rerun: boolean): Promise<string> {
  const { operation } = ctx;
  return ctx.authorized(async (tx) => {
    if (rerun) {
      const [existing, [progress]] = await Promise.all([
        findUserByEmail(tx, email, { id: users.id, orgId: users.orgId }),
        tx.select({ result: operations.result }).from(operations).where(eq(operations.id, operation.id)),
      ]);
      if (existing) {
        if (existing.orgId === operation.clientOrgId && progress?.result?.userId === existing.id) return existing.id;
        throw new OperationFailure(`${email} is already in use`);
      }
    }
    const id = newId('user');
    await Promise.all([
      // Unusable until the temporary password is set.
      runPrepared(
        tx.insert(users).values({
          id,
          orgId: operation.clientOrgId,
          email,
          displayName: str(operation.input.displayName),
          passwordHash: '!',
          mustChangePassword: true,
        }),
      ),
      // What this operation created, in the same transaction: for a rerun, and so a later
      // failure still reports it.
      runPrepared(
        tx
          .update(operations)
          .set({ result: { userId: id, email } })
          .where(eq(operations.id, operation.id)),
      ),
      ctx.audit(tx, { action: 'user.create', targetType: 'user', targetId: id, detail: { email } }),
    ]);
    return id;
  });
}

/**
 * Creates the user (once: a rerun finds the one it created), emails its temporary
 * password to `notifyEmail` or to the staff member who asked, then sets it (once:
 * giveTemporaryPassword).
 */
export const provisionUser: OperationHandler = {
  capability: async () => 'provision_user',
  async run(ctx) {
    const { operation } = ctx;
    const email = str(operation.input.email);
    // The claim read the operation under its lease: progress recorded by an earlier run is
    // there. If the address is taken anyway, look again (that run may have committed since).
    const userId = await createUser(ctx, email, operation.result?.userId !== undefined)
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) return createUser(ctx, email, true);
        throw error;
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new OperationFailure(`${email} is already in use`);
        throw error;
      });
    const { sentTo } = await giveTemporaryPassword(ctx, {
      to: str(operation.input.notifyEmail) || null,
      userEmail: email,
      kind: 'new-user',
      apply: (tx, given) =>
        setTemporaryPassword(ctx, tx, {
          userId,
          hash: given.hash,
          onlyNonAdmin: false,
          audit: {
            action: 'user.temporary_password',
            targetType: 'user',
            targetId: userId,
            detail: { sentTo: given.sentTo },
          },
        }),
    });
    return { userId, email, temporaryPasswordSentTo: sentTo };
  },
};

/**
 * Gives a user of the organization a temporary password and ends their sessions. A
 * non-admin's goes to the staff member who asked; a global admin's goes to the admin's
 * own address — never to the partner, who could otherwise take the account over. The
 * user is also emailed who reset it (staff member and partner), whoever got the password.
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
    // The user is told who reset it, in the transaction that sets the password: no notice
    // without the change, and one per operation however often the job runs (its dedupe key).
    let emailIds: string[] = [];
    const { sentTo } = await giveTemporaryPassword(ctx, {
      to: user.isGlobalAdmin ? user.email : null,
      userEmail: user.email,
      kind: 'reset',
      toClientAdmin: user.isGlobalAdmin,
      async apply(tx, given) {
        await setTemporaryPassword(ctx, tx, {
          userId: user.id,
          hash: given.hash,
          // Where the password went decides, not what the user is now: one that went to the
          // staff member who asked never becomes an admin's, even if the user became one.
          onlyNonAdmin: !given.toClientAdmin,
          audit: {
            action: 'user.password_reset',
            targetType: 'user',
            targetId: user.id,
            detail: { sentTo: given.sentTo },
          },
        });
        emailIds = await notifyPasswordReset(tx, notifyContext(deps.config), {
          operationId: operation.id,
          userId: user.id,
          requestedBy: operation.requestedBy,
          partnerId: operation.partnerId,
          orgName: ctx.orgName ?? 'your organization',
        });
      },
    });
    await enqueueEmails(deps, emailIds);
    return { userId: user.id, temporaryPasswordSentTo: sentTo };
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
    // A failure of our own lookup says nothing about the client's domain: never shown as found there.
    const seen =
      lookup && !lookup.ok
        ? `nothing yet: our DNS lookup failed (${lookup.error}), not an answer from ${name}`
        : found.length > 0
          ? found.map((r) => r.join('')).join(' | ')
          : 'no TXT records';
    await deps.db
      .update(domains)
      .set({ lastCheckedAt: sql`now()`, lastFound: seen.slice(0, 2000) })
      .where(eq(domains.id, domain.id));
    const expected = `${VERIFICATION_PREFIX}${domain.verificationToken}`;
    const ageSeconds = (Date.now() - (operation.retriedAt ?? operation.createdAt).getTime()) / 1000;
    // The deadline of the request (older operations: the setting's).
    const deadlineSeconds =
      typeof operation.input.deadlineSeconds === 'number'
        ? operation.input.deadlineSeconds
        : deps.config.domainVerifyDeadlineSeconds;
    if (ageSeconds >= deadlineSeconds) {
      throw new OperationFailure(
        `No TXT record "${expected}" at ${name} before the deadline; found: ${seen.slice(0, 500)}`,
      );
    }
    // When the queue looks again (its `dns` backoff after this attempt), so the page can say.
    const next = inAbout(domainCheckPauseMs(deps.config.domainVerifyRetryMs, operation.attempts));
    throw new OperationWaits(
      `TXT record "${expected}" not found at ${name} yet; found: ${seen.slice(0, 500)}; looking again ${next}`,
    );
  },
};

/** The handler of each kind of operation: the compiler refuses a kind without one. */
export const operationHandlers: Record<OperationKind, OperationHandler> = {
  provision_user: provisionUser,
  reset_password: resetPassword,
  add_domain: addDomain,
  verify_domain: verifyDomain,
};
