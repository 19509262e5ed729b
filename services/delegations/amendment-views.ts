import { and, desc, eq, lt } from 'drizzle-orm';
import { type AccessLevel, presetAccess } from '../../core/access.ts';
import type { AmendmentKind, AmendmentState } from '../../core/amendment-machine.ts';
import type { DelegationTerms } from '../../core/amendment-rules.ts';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { DbOrTx } from '../../db/client.ts';
import { type Amendment, amendments, delegations, type StoredTerms } from '../../db/schema/index.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

export interface TermsView {
  roles: Role[];
  /** The preset the roles are exactly, when they are one. */
  access?: AccessLevel;
  endsAt: string;
  autoExtend: boolean;
}

export interface AmendmentView {
  id: string;
  delegationId: string;
  kind: AmendmentKind;
  state: AmendmentState;
  change: { addRoles: Role[]; removeRoles: Role[]; extendDays: number | null; autoExtend: boolean | null };
  before: TermsView;
  after: TermsView;
  requestedBy: string;
  createdAt: string;
  /** Until when the client may answer (additions). */
  expiresAt: string | null;
  answeredAt: string | null;
  /** The client's global admin who accepted or declined. */
  answeredBy: string | null;
}

export function toStoredTerms(terms: DelegationTerms): StoredTerms {
  return { roles: sortRoles(terms.roles), endsAt: terms.endsAt.toISOString(), autoExtend: terms.autoExtend };
}

const termsView = (t: StoredTerms): TermsView => ({
  roles: sortRoles(t.roles),
  ...presetAccess(t.roles),
  endsAt: new Date(t.endsAt).toISOString(),
  autoExtend: t.autoExtend,
});

export function toAmendmentView(a: Amendment): AmendmentView {
  return {
    id: a.id,
    delegationId: a.delegationId,
    kind: a.kind,
    state: a.state,
    change: {
      addRoles: sortRoles(a.addRoles),
      removeRoles: sortRoles(a.removeRoles),
      extendDays: a.extendDays,
      autoExtend: a.autoExtend,
    },
    before: termsView(a.before),
    after: termsView(a.after),
    requestedBy: a.requestedBy,
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt?.toISOString() ?? null,
    answeredAt: a.answeredAt?.toISOString() ?? null,
    answeredBy: a.answeredBy,
  };
}

/** The amendments of one of the partner's delegations, newest first; NOT_FOUND for another partner's. */
export async function listAmendments(
  db: DbOrTx,
  principal: PartnerPrincipal,
  delegationId: string,
  query: { cursor?: string | undefined; limit: number },
): Promise<Page<AmendmentView>> {
  assertSeesPartnerData(principal);
  requireId('delegation', delegationId, 'delegation');
  const [d] = await db
    .select({ id: delegations.id })
    .from(delegations)
    .where(and(eq(delegations.id, delegationId), eq(delegations.partnerId, principal.partnerId)));
  if (!d) throw new AppError('NOT_FOUND', 'No such delegation');
  const before = decodeCursor(query.cursor);
  const rows = await db
    .select()
    .from(amendments)
    .where(and(eq(amendments.delegationId, delegationId), before ? lt(amendments.id, before) : undefined))
    .orderBy(desc(amendments.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit);
  return { items: page.items.map(toAmendmentView), nextCursor: page.nextCursor };
}
