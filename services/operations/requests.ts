import { and, eq } from 'drizzle-orm';
import { normalizeDomainName, VERIFICATION_PREFIX } from '../../core/domain-names.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { type Capability, decide, passwordResetCapability } from '../../core/permissions.ts';
import type { DbOrTx } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import {
  type Delegation,
  delegations,
  domains,
  type Operation,
  type OperationKind,
  operations,
  users,
} from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit.ts';
import type { PartnerPrincipal } from '../auth.ts';
import { newUserAddress } from './client-addresses.ts';
import { jobForKind } from './kinds.ts';

export interface RequestContext {
  idempotencyKey?: string | undefined;
  requestId?: string | undefined;
}

/** A delegation of this partner, or NOT_FOUND (also for another partner's). */
export async function getPartnerDelegation(db: DbOrTx, partnerId: string, delegationId: string): Promise<Delegation> {
  requireId('delegation', delegationId, 'delegation');
  const [row] = await db
    .select()
    .from(delegations)
    .where(and(eq(delegations.id, delegationId), eq(delegations.partnerId, partnerId)));
  if (!row) throw new AppError('NOT_FOUND', 'No such delegation');
  return row;
}

/** Throws NOT_AUTHORIZED (403) unless the effective permission allows `capability`. */
export function authorize(capability: Capability, delegation: Delegation, principal: PartnerPrincipal): void {
  const decision = decide(capability, { delegation, staffRoles: principal.roles });
  if (!decision.allowed) throw new AppError('NOT_AUTHORIZED', `Not allowed: ${decision.reason}`);
}

const keyShape = /^[\x21-\x7e]{1,200}$/;

/**
 * Records an operation (queued) and its audit event, then enqueues its job after
 * commit. With an Idempotency-Key, the same key and the same request return the first
 * operation; the same key with another request is IDEMPOTENCY_KEY_REUSED.
 */
async function recordOperation(
  deps: Pick<Deps, 'db' | 'queues' | 'logger'>,
  principal: PartnerPrincipal,
  delegation: Delegation,
  kind: OperationKind,
  /** What the client sent: the same key must come with the same request. */
  clientRequest: Record<string, unknown>,
  /** Validates the request and builds the stored input; skipped when the key replays. */
  prepare: () => Promise<Record<string, unknown>>,
  ctx: RequestContext,
): Promise<{ operation: Operation; replayed: boolean }> {
  const key = ctx.idempotencyKey;
  if (key !== undefined && !keyShape.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 200 printable characters', {
      issues: [{ path: 'Idempotency-Key', message: 'invalid' }],
    });
  }
  const requestHash = sha256Hex(JSON.stringify({ kind, delegationId: delegation.id, clientRequest }));
  const replay = async (): Promise<{ operation: Operation; replayed: boolean } | null> => {
    if (key === undefined) return null;
    const [existing] = await deps.db
      .select()
      .from(operations)
      .where(and(eq(operations.requestedBy, principal.userId), eq(operations.idempotencyKey, key)));
    if (!existing) return null;
    if (existing.requestHash !== requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request');
    }
    return { operation: existing, replayed: true };
  };
  const earlier = await replay();
  if (earlier) return earlier;

  const input = await prepare();
  const id = newId('operation');
  let operation: Operation;
  try {
    operation = await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(operations)
        .values({
          id,
          partnerId: principal.partnerId,
          delegationId: delegation.id,
          clientOrgId: delegation.clientOrgId as string,
          kind,
          requestedBy: principal.userId,
          input,
          idempotencyKey: key ?? null,
          requestHash,
          requestId: ctx.requestId ?? null,
        })
        .returning();
      await recordAudit(tx, {
        actorUserId: principal.userId,
        partnerId: principal.partnerId,
        orgId: delegation.clientOrgId as string,
        action: `operation.request.${kind}`,
        targetType: 'operation',
        targetId: id,
        outcome: 'succeeded',
        requestId: ctx.requestId,
        detail: { delegationId: delegation.id, ...input },
      });
      return row as Operation;
    });
  } catch (error) {
    // The same key twice at once: the unique index let one through; answer as it would.
    if (isUniqueViolation(error, 'operations_idempotency_unique')) {
      const winner = await replay();
      if (winner) return winner;
    }
    throw error;
  }
  try {
    await deps.queues.enqueue(jobForKind[kind], { operationId: id });
  } catch (error) {
    deps.logger.warn({ err: error, operationId: id }, 'operation recorded but not enqueued; it will run later');
  }
  return { operation, replayed: false };
}

type Ops = Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>;

export async function requestProvisionUser(
  deps: Ops,
  principal: PartnerPrincipal,
  delegationId: string,
  input: { displayName: string; userName: string; notifyEmail?: string | undefined },
  ctx: RequestContext,
) {
  const delegation = await getPartnerDelegation(deps.db, principal.partnerId, delegationId);
  authorize('provision_user', delegation, principal);
  return recordOperation(
    deps,
    principal,
    delegation,
    'provision_user',
    input,
    async () => {
      const email = await newUserAddress(
        deps.db,
        delegation.clientOrgId as string,
        input.userName,
        deps.config.initialDomainSuffix,
      );
      return {
        displayName: input.displayName,
        email,
        ...(input.notifyEmail ? { notifyEmail: input.notifyEmail } : {}),
      };
    },
    ctx,
  );
}

export async function requestPasswordReset(
  deps: Ops,
  principal: PartnerPrincipal,
  delegationId: string,
  userId: string,
  ctx: RequestContext,
) {
  const delegation = await getPartnerDelegation(deps.db, principal.partnerId, delegationId);
  authorize('list_users', delegation, principal);
  requireId('user', userId, 'user');
  const [target] = await deps.db
    .select({ id: users.id, isGlobalAdmin: users.isGlobalAdmin })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.orgId, delegation.clientOrgId as string)));
  if (!target) throw new AppError('NOT_FOUND', 'No such user in this organization');
  authorize(passwordResetCapability(target.isGlobalAdmin), delegation, principal);
  return recordOperation(deps, principal, delegation, 'reset_password', { userId }, async () => ({ userId }), ctx);
}

export async function requestAddDomain(
  deps: Ops,
  principal: PartnerPrincipal,
  delegationId: string,
  rawName: string,
  ctx: RequestContext,
) {
  const delegation = await getPartnerDelegation(deps.db, principal.partnerId, delegationId);
  authorize('add_domain', delegation, principal);
  const normalized = normalizeDomainName(rawName);
  if ('reason' in normalized) {
    throw new AppError('VALIDATION_FAILED', `The domain ${normalized.reason}`, {
      issues: [{ path: 'name', message: normalized.reason }],
    });
  }
  const orgId = delegation.clientOrgId as string;
  const result = await recordOperation(
    deps,
    principal,
    delegation,
    'add_domain',
    { name: normalized.name },
    async () => {
      const [existing] = await deps.db
        .select({ id: domains.id })
        .from(domains)
        .where(and(eq(domains.orgId, orgId), eq(domains.name, normalized.name)));
      if (existing) throw new AppError('CONFLICT', `${normalized.name} has already been added to this organization`);
      // Not a secret: it is published in DNS. A replayed request returns the first token.
      return { name: normalized.name, token: randomToken(16) };
    },
    ctx,
  );
  const token = String(result.operation.input.token);
  return {
    ...result,
    verification: { type: 'TXT' as const, name: normalized.name, value: `${VERIFICATION_PREFIX}${token}` },
  };
}

export async function requestVerifyDomain(
  deps: Ops,
  principal: PartnerPrincipal,
  delegationId: string,
  rawName: string,
  ctx: RequestContext,
) {
  const delegation = await getPartnerDelegation(deps.db, principal.partnerId, delegationId);
  authorize('verify_domain', delegation, principal);
  const normalized = normalizeDomainName(rawName);
  if ('reason' in normalized) throw new AppError('NOT_FOUND', 'No such domain in this organization');
  const [domain] = await deps.db
    .select({ id: domains.id })
    .from(domains)
    .where(and(eq(domains.orgId, delegation.clientOrgId as string), eq(domains.name, normalized.name)));
  if (!domain) throw new AppError('NOT_FOUND', 'No such domain in this organization');
  return recordOperation(
    deps,
    principal,
    delegation,
    'verify_domain',
    { name: normalized.name },
    async () => ({ name: normalized.name }),
    ctx,
  );
}
