import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { isSameOrSubdomain, normalizeDomainName, VERIFICATION_PREFIX } from '../../core/domain-names.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { operationKinds } from '../../core/operation-kinds.ts';
import { type Capability, decide, passwordResetCapability } from '../../core/permissions.ts';
import type { Db, DbOrTx, Sql } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import {
  type Delegation,
  delegations,
  domains,
  type Operation,
  type OperationKind,
  users,
} from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { randomToken } from '../../lib/secrets.ts';
import { claimInCommitSql, currentClaim, fenceClaimSql, IdempotencyKeyTaken } from '../shared/idempotency-keys.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { newUserAddress, verifiedDomainNames } from './client-addresses.ts';

export interface RequestContext {
  requestId?: string | undefined;
}

/** A delegation of this partner, or NOT_FOUND (also for another partner's). */
export async function getPartnerDelegation(
  db: DbOrTx,
  partnerId: string,
  delegationId: string,
): Promise<Delegation & { pastEnd: boolean }> {
  requireId('delegation', delegationId, 'delegation');
  const [row] = await db
    .select({ ...getTableColumns(delegations), pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)` })
    .from(delegations)
    .where(and(eq(delegations.id, delegationId), eq(delegations.partnerId, partnerId)));
  if (!row) throw new AppError('NOT_FOUND', 'No such delegation');
  return row;
}

/**
 * {@link getPartnerDelegation} with its organization's verified domains, in one prepared
 * statement (db/prepared.ts): the first step of every provision-user request.
 */
const delegationWithDomains = preparedPerDb((db) =>
  db
    .select({
      ...getTableColumns(delegations),
      pastEnd: sql<boolean>`coalesce(${delegations.endsAt} <= now(), false)`,
      verifiedDomains: verifiedDomainNames(delegations.clientOrgId),
    })
    .from(delegations)
    .where(
      and(eq(delegations.id, sql.placeholder('delegationId')), eq(delegations.partnerId, sql.placeholder('partnerId'))),
    )
    .prepare('partner_delegation_with_domains'),
);

async function getPartnerDelegationWithDomains(db: Db, partnerId: string, delegationId: string) {
  requireId('delegation', delegationId, 'delegation');
  const [row] = await delegationWithDomains(db).execute({ partnerId, delegationId });
  if (!row) throw new AppError('NOT_FOUND', 'No such delegation');
  return row;
}

/** Throws NOT_AUTHORIZED (403) unless the effective permission allows `capability`. */
export function authorize(
  capability: Capability,
  delegation: Delegation & { pastEnd: boolean },
  principal: PartnerPrincipal,
): void {
  const decision = decide(capability, { delegation, staffRoles: principal.roles });
  if (!decision.allowed) throw new AppError('NOT_AUTHORIZED', `Not allowed: ${decision.reason}`);
}

/**
 * Records an operation (queued) and its audit row (pending until it ends, services/audit/operation-trail.ts), then enqueues its job after commit.
 * One statement, prepared by postgres.js: the audit row is written by a CTE of the insert
 * (atomic, one round trip; JSON goes as text, as in runner.ts's `finish`). With
 * `onlyIfAddressFree`, nothing is recorded while a user has that address: CONFLICT.
 * (Repeats of the same request are answered by the Idempotency-Key middleware, api/idempotency.ts.)
 */
async function recordOperation(
  deps: Pick<Deps, 'sql' | 'queues' | 'logger'>,
  principal: PartnerPrincipal,
  delegation: Delegation,
  kind: OperationKind,
  input: Record<string, unknown>,
  ctx: RequestContext,
  onlyIfAddressFree?: string,
): Promise<{ operation: Pick<Operation, 'id'> }> {
  const id = newId('operation');
  const orgId = delegation.clientOrgId as string;
  const requestId = ctx.requestId ?? null;
  const free =
    onlyIfAddressFree === undefined
      ? deps.sql`true`
      : deps.sql`not exists (select 1 from users where lower(email) = lower(${onlyIfAddressFree}))`;
  const claim = currentClaim.getStore();
  const inCommit = claim?.inCommit ? { ...claim, inCommit: claim.inCommit } : null;
  const record = (q: Sql) => q`
    with ${inCommit ? q`${claimInCommitSql(q, inCommit)},` : q``} op as (
      insert into operations (id, partner_id, delegation_id, client_org_id, kind, requested_by, input, request_id)
      select ${id}, ${principal.partnerId}, ${delegation.id}, ${orgId}, ${kind}, ${principal.userId},
             ${JSON.stringify(input)}::text::jsonb, ${requestId}
      where ${free} ${inCommit ? q`and exists (select 1 from claim)` : q``}
      returning id
    ), audit as (
      insert into audit_events
        (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, request_id, detail)
      select ${principal.userId}, ${principal.partnerId}, ${orgId}, ${`operation.${kind}`}, 'operation', op.id,
             'pending', ${requestId}, ${JSON.stringify({ delegationId: delegation.id, ...input })}::text::jsonb
      from op
    )
    select op.id, ${inCommit ? q`exists (select 1 from claim)` : q`true`} as claimed from (select 1) one left join op on true`;
  // With an Idempotency-Key: claimed in the same statement on the routes that defer their
  // claim to it (api/idempotency.ts), else the fence of ADR 19 in the same transaction.
  const [recorded] =
    claim && !inCommit
      ? await deps.sql.begin(async (tx) => {
          await fenceClaimSql(tx as unknown as Sql);
          return record(tx as unknown as Sql);
        })
      : await record(deps.sql);
  if (inCommit) {
    if (!recorded?.claimed) throw new IdempotencyKeyTaken();
    inCommit.inCommit.claimed = true;
  }
  if (!recorded?.id) {
    throw new AppError('CONFLICT', `${onlyIfAddressFree} is already in use`, {
      issues: [{ path: 'userName', message: 'already in use' }],
    });
  }
  await deps.queues.enqueueAfterCommit(operationKinds[kind].job, { operationId: id }, { operationId: id });
  return { operation: { id } };
}

type Ops = Pick<Deps, 'db' | 'sql' | 'queues' | 'logger' | 'config'>;

/**
 * Two statements: the delegation with its organization's verified domains (to authorize
 * and to compose the address), then the operation — recorded only while the address is free.
 */
export async function requestProvisionUser(
  deps: Ops,
  principal: PartnerPrincipal,
  delegationId: string,
  input: { displayName: string; userName: string; notifyEmail?: string | undefined },
  ctx: RequestContext,
) {
  const delegation = await getPartnerDelegationWithDomains(deps.db, principal.partnerId, delegationId);
  authorize('provision_user', delegation, principal);
  const orgId = delegation.clientOrgId as string;
  const email = newUserAddress(orgId, input.userName, deps.config.initialDomainSuffix, delegation.verifiedDomains);
  const stored = {
    displayName: input.displayName,
    email,
    ...(input.notifyEmail ? { notifyEmail: input.notifyEmail } : {}),
  };
  return recordOperation(deps, principal, delegation, 'provision_user', stored, ctx, email);
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
  return recordOperation(deps, principal, delegation, 'reset_password', { userId }, ctx);
}

/** The domain of this name in the organization, if it was added. */
async function findDomain(db: DbOrTx, orgId: string, name: string) {
  const [domain] = await db
    .select({ id: domains.id })
    .from(domains)
    .where(and(eq(domains.orgId, orgId), eq(domains.name, name)));
  return domain ?? null;
}

/** A name a client organization may add: valid, not a public suffix, not one of Mandate's own. */
function domainToAdd(rawName: string, initialDomainSuffix: string): string {
  const normalized = normalizeDomainName(rawName);
  const reason =
    'reason' in normalized
      ? normalized.reason
      : isSameOrSubdomain(normalized.name, initialDomainSuffix) ||
          isSameOrSubdomain(initialDomainSuffix, normalized.name)
        ? 'belongs to Mandate (initial domains), not to the organization'
        : null;
  if (reason !== null || 'reason' in normalized) {
    throw new AppError('VALIDATION_FAILED', `The domain ${reason}`, {
      issues: [{ path: 'name', message: String(reason) }],
    });
  }
  return normalized.name;
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
  const name = domainToAdd(rawName, deps.config.initialDomainSuffix);
  if (await findDomain(deps.db, delegation.clientOrgId as string, name)) {
    throw new AppError('CONFLICT', `${name} has already been added to this organization`);
  }
  // The token is not a secret: it is published in DNS.
  const token = randomToken(16);
  const result = await recordOperation(deps, principal, delegation, 'add_domain', { name, token }, ctx);
  return { ...result, verification: { type: 'TXT' as const, name, value: `${VERIFICATION_PREFIX}${token}` } };
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
  const found =
    'name' in normalized ? await findDomain(deps.db, delegation.clientOrgId as string, normalized.name) : null;
  if (!found || !('name' in normalized)) throw new AppError('NOT_FOUND', 'No such domain in this organization');
  // The deadline in force now stays the operation's, whatever the setting becomes later.
  const input = { name: normalized.name, deadlineSeconds: deps.config.domainVerifyDeadlineSeconds };
  return recordOperation(deps, principal, delegation, 'verify_domain', input, ctx);
}
