import { and, desc, eq, getTableColumns, lt, lte, sql } from 'drizzle-orm';
import { type AccessLevel, presetAccess } from '../../core/access.ts';
import type { DelegationEvent, DelegationState } from '../../core/delegation-machine.ts';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { Db } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import { type ActorType, type Delegation, delegations } from '../../db/schema/index.ts';
import { delegationTimelineJson } from '../shared/delegation-timeline.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { DelegationRead, PartnerPrincipal } from '../shared/principals.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export interface DelegationView {
  id: string;
  state: DelegationState;
  offerId: string;
  campaignId: string | null;
  clientOrgId: string | null;
  recipient: { email: string | null; name: string | null; company: string | null };
  /** The roles granted (asked for, until the client answers). */
  roles: Role[];
  /** The preset the roles are exactly, when they are one. */
  access?: AccessLevel;
  durationDays: number;
  autoExtend: boolean;
  sendAttempts: number;
  smtpReply: string | null;
  failureReason: string | null;
  offeredAt: string | null;
  acceptedAt: string | null;
  activatedAt: string | null;
  endsAt: string | null;
  endedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toDelegationView(d: Delegation): DelegationView {
  return {
    id: d.id,
    state: d.state,
    offerId: d.offerId,
    campaignId: d.campaignId,
    clientOrgId: d.clientOrgId,
    recipient: { email: d.recipientEmail, name: d.recipientName, company: d.recipientCompany },
    roles: sortRoles(d.roles),
    ...presetAccess(d.roles),
    durationDays: d.durationDays,
    autoExtend: d.autoExtend,
    sendAttempts: d.sendAttempts,
    smtpReply: d.smtpReply,
    failureReason: d.failureReason,
    offeredAt: iso(d.offeredAt),
    acceptedAt: iso(d.acceptedAt),
    activatedAt: iso(d.activatedAt),
    endsAt: iso(d.endsAt),
    endedAt: iso(d.endedAt),
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

export const delegationSorts = ['newest', 'ends', 'company'] as const;
export type DelegationSort = (typeof delegationSorts)[number];

export interface DelegationQuery {
  state?: DelegationState | undefined;
  campaignId?: string | undefined;
  /** Only the delegations with this client organization. */
  clientOrgId?: string | undefined;
  /**
   * `newest` (the default, paged by cursor); `ends`: soonest end first; `company`: by the
   * client's company, A to Z — the first page only (`limit` rows), without a cursor.
   */
  sort?: DelegationSort | undefined;
  /** Only active delegations ending within this many days. */
  expiringWithinDays?: number | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** The partner's delegations, newest first, optionally filtered by state, campaign or coming end. */
export async function listDelegations(
  db: Db,
  principal: PartnerPrincipal,
  query: DelegationQuery,
): Promise<Page<DelegationView>> {
  assertSeesPartnerData(principal);
  const sorted = query.sort !== undefined && query.sort !== 'newest';
  const before = sorted ? undefined : decodeCursor(query.cursor);
  const rows = await db
    .select()
    .from(delegations)
    .where(
      and(
        eq(delegations.partnerId, principal.partnerId),
        query.state ? eq(delegations.state, query.state) : undefined,
        query.campaignId ? eq(delegations.campaignId, query.campaignId) : undefined,
        query.clientOrgId ? eq(delegations.clientOrgId, query.clientOrgId) : undefined,
        query.expiringWithinDays !== undefined
          ? and(
              eq(delegations.state, 'active'),
              lte(delegations.endsAt, sql`now() + make_interval(days => ${query.expiringWithinDays})`),
            )
          : undefined,
        before ? lt(delegations.id, before) : undefined,
      ),
    )
    .orderBy(
      ...(query.sort === 'ends'
        ? [sql`${delegations.endsAt} asc nulls last`]
        : query.sort === 'company'
          ? [sql`lower(${delegations.recipientCompany}) asc nulls last`]
          : []),
      desc(delegations.id),
    )
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { items: page.items.map(toDelegationView), nextCursor: sorted ? null : page.nextCursor };
}

export interface DelegationEventView {
  event: DelegationEvent;
  fromState: DelegationState | null;
  toState: DelegationState;
  actor: { type: ActorType; id: string | null };
  detail: Record<string, unknown> | null;
  at: string;
}

/**
 * The delegation with its timeline in one statement, the events aggregated into one JSON
 * array, and prepared: this is the API's hottest read. (Its route reads it in the token's
 * own statement instead, services/shared/principals.ts; this one serves the other callers.)
 */
const delegationWithEvents = preparedPerDb((db) =>
  db
    .select({
      delegation: getTableColumns(delegations),
      // Spelled out: drizzle leaves columns unqualified in a one-table select, which a
      // correlated subquery cannot have.
      events: delegationTimelineJson(sql.raw('delegations.id')),
    })
    .from(delegations)
    .where(
      and(eq(delegations.id, sql.placeholder('delegationId')), eq(delegations.partnerId, sql.placeholder('partnerId'))),
    )
    .prepare('get_delegation'),
);

/**
 * One delegation of the partner with its timeline, or NOT_FOUND (also for another
 * partner's). `read`: the row as the token's statement already read it, if it found it.
 */
export async function getDelegation(
  db: Db,
  principal: PartnerPrincipal,
  delegationId: string,
  read?: DelegationRead | null,
): Promise<DelegationView & { events: DelegationEventView[] }> {
  assertSeesPartnerData(principal);
  requireId('delegation', delegationId, 'delegation');
  // Read again when the token's statement found none (a 404 costs a second statement).
  const row =
    read?.delegation.id === delegationId && read.delegation.partnerId === principal.partnerId
      ? read
      : (await delegationWithEvents(db).execute({ delegationId, partnerId: principal.partnerId }))[0];
  if (!row) throw new AppError('NOT_FOUND', 'No such delegation');
  return {
    ...toDelegationView(row.delegation),
    events: row.events.map((e) => ({
      event: e.event,
      fromState: e.fromState,
      toState: e.toState,
      actor: { type: e.actorType, id: e.actorId },
      detail: e.detail,
      // The same millisecond ISO text as a Date read by the driver.
      at: new Date(e.at).toISOString(),
    })),
  };
}
