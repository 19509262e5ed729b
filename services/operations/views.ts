import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import { VERIFICATION_PREFIX } from '../../core/domain-names.ts';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { type OperationFacts, operationInWords, operationSubject } from '../../core/operation-words.ts';
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
    /** Only those in this client organization (through any of the partner's delegations with it). */
    clientOrgId?: string | undefined;
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
        query.clientOrgId ? eq(operations.clientOrgId, query.clientOrgId) : undefined,
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
      verification: { type: 'TXT' as const, name: d.name, value: `${VERIFICATION_PREFIX}${d.verificationToken}` },
      verifiedAt: d.verifiedAt?.toISOString() ?? null,
      lastCheckedAt: d.lastCheckedAt?.toISOString() ?? null,
      lastFound: d.lastFound,
    })),
  };
}

/** An operation as the dashboard shows it: in words, with its client. */
export interface OperationDescribed extends OperationView {
  words: string;
  subject: string;
  client: { orgId: string | null; name: string };
  /** The address of the staff member who asked for it. */
  requestedBy: string | null;
}

/**
 * The operations (already read under the principal's permissions) in words, with the
 * client each happened in: one statement for the page, whatever its length.
 */
export async function describeOperations(
  db: Db,
  principal: PartnerPrincipal,
  views: OperationView[],
): Promise<OperationDescribed[]> {
  if (views.length === 0) return [];
  const rows = await db.execute<{
    id: string;
    input: Record<string, unknown>;
    result: Record<string, unknown> | null;
    error: string | null;
    client_org_id: string | null;
    org_name: string | null;
    company: string | null;
    recipient_email: string | null;
    user_email: string | null;
    requested_by: string | null;
  }>(sql`
    select o.id, o.input, o.result, o.error, o.client_org_id, g.name as org_name,
           d.recipient_company as company, d.recipient_email, u.email as user_email,
           r.email as requested_by
    from operations o
    join delegations d on d.id = o.delegation_id
    left join organizations g on g.id = o.client_org_id
    left join users u on u.id = o.input->>'userId' and u.org_id = o.client_org_id
    left join users r on r.id = o.requested_by
    where o.id = any(${sql.param(views.map((v) => v.id))}::text[]) and o.partner_id = ${principal.partnerId}`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return views.map((view) => {
    const row = byId.get(view.id);
    const facts: OperationFacts = {
      state: view.state,
      input: row?.input ?? {},
      result: view.result ?? null,
      error: view.error ?? null,
      userEmail: row?.user_email ?? null,
    };
    return {
      ...view,
      words: operationInWords(view.kind, facts),
      subject: operationSubject(view.kind, facts),
      client: {
        orgId: row?.client_org_id ?? null,
        name: row?.org_name ?? row?.company ?? row?.recipient_email ?? 'a client',
      },
      requestedBy: row?.requested_by ?? null,
    };
  });
}
