import { and, asc, desc, eq, lt } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { maySeeOperation, seesAllOperations, seesClientOrganizations } from '../../core/partner-permissions.ts';
import type { Db } from '../../db/client.ts';
import { domains, type Operation, type OperationState, operations, users } from '../../db/schema/index.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';
import { initialDomain } from './client-addresses.ts';
import { authorize, getPartnerDelegation } from './requests.ts';

export interface OperationView {
  id: string;
  kind: Operation['kind'];
  state: OperationState;
  attempts: number;
  delegationId: string;
  result?: Record<string, unknown>;
  error?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export function toOperationView(op: Operation): OperationView {
  return {
    id: op.id,
    kind: op.kind,
    state: op.state,
    attempts: op.attempts,
    delegationId: op.delegationId,
    ...(op.result && op.state === 'succeeded' ? { result: op.result } : {}),
    ...(op.error ? { error: op.error } : {}),
    createdAt: op.createdAt.toISOString(),
    updatedAt: op.updatedAt.toISOString(),
    finishedAt: op.finishedAt?.toISOString() ?? null,
  };
}

/** Staff without access read nothing that happened in client organizations. */
function assertMaySeeOperations(principal: PartnerPrincipal): void {
  if (!seesClientOrganizations(principal)) {
    throw new AppError('NOT_AUTHORIZED', 'Your staff access does not include client organizations');
  }
}

export async function getOperation(db: Db, principal: PartnerPrincipal, operationId: string): Promise<OperationView> {
  assertSeesPartnerData(principal);
  requireId('operation', operationId, 'operation');
  const [op] = await db
    .select()
    .from(operations)
    .where(and(eq(operations.id, operationId), eq(operations.partnerId, principal.partnerId)));
  if (!op || !maySeeOperation(principal, op.requestedBy)) throw new AppError('NOT_FOUND', 'No such operation');
  return toOperationView(op);
}

export async function listOperations(
  db: Db,
  principal: PartnerPrincipal,
  query: {
    state?: OperationState | undefined;
    delegationId?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
): Promise<Page<OperationView>> {
  assertSeesPartnerData(principal);
  assertMaySeeOperations(principal);
  const before = decodeCursor(query.cursor);
  const rows = await db
    .select()
    .from(operations)
    .where(
      and(
        eq(operations.partnerId, principal.partnerId),
        seesAllOperations(principal) ? undefined : eq(operations.requestedBy, principal.userId),
        query.state ? eq(operations.state, query.state) : undefined,
        query.delegationId ? eq(operations.delegationId, query.delegationId) : undefined,
        before ? lt(operations.id, before) : undefined,
      ),
    )
    .orderBy(desc(operations.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { items: page.items.map(toOperationView), nextCursor: page.nextCursor };
}

/** The users of the client organization behind a delegation (needs list_users). */
export async function listClientUsers(db: Db, principal: PartnerPrincipal, delegationId: string) {
  assertSeesPartnerData(principal);
  const delegation = await getPartnerDelegation(db, principal.partnerId, delegationId);
  authorize('list_users', delegation, principal);
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      displayName: users.displayName,
      isGlobalAdmin: users.isGlobalAdmin,
      mustChangePassword: users.mustChangePassword,
      createdAt: users.createdAt,
    })
    .from(users)
    .where(eq(users.orgId, delegation.clientOrgId as string))
    .orderBy(asc(users.id))
    .limit(5000);
  return { items: rows.map((u) => ({ ...u, createdAt: u.createdAt.toISOString() })) };
}

/** The domains of the client organization behind a delegation (needs list_domains). */
export async function listClientDomains(db: Db, principal: PartnerPrincipal, delegationId: string, suffix: string) {
  assertSeesPartnerData(principal);
  const delegation = await getPartnerDelegation(db, principal.partnerId, delegationId);
  authorize('list_domains', delegation, principal);
  const rows = await db
    .select()
    .from(domains)
    .where(eq(domains.orgId, delegation.clientOrgId as string))
    .orderBy(asc(domains.name));
  return {
    initialDomain: initialDomain(delegation.clientOrgId as string, suffix),
    items: rows.map((d) => ({
      name: d.name,
      state: d.state,
      verification: { type: 'TXT' as const, name: d.name, value: `mandate-verification=${d.verificationToken}` },
      verifiedAt: d.verifiedAt?.toISOString() ?? null,
      lastCheckedAt: d.lastCheckedAt?.toISOString() ?? null,
      lastFound: d.lastFound,
    })),
  };
}
