import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import { liveDelegationStates } from '../../core/delegation-machine.ts';
import type { OfferLinkFacts } from '../../core/offer-link-view.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { DbOrTx } from '../../db/client.ts';
import { type Delegation, delegations, type Offer, offers, organizations } from '../../db/schema/index.ts';
import { sha256Hex } from '../../lib/secrets.ts';

export interface ResolvedOfferLink {
  facts: OfferLinkFacts;
  offer: Offer;
  partnerName: string;
  roles: Role[];
  /** Roles the offer lets the client leave out when accepting (none in common with `roles`). */
  optionalRoles: Role[];
  /** The delegation behind a personal link. */
  delegation: Delegation | null;
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/**
 * Finds what an offer link points at — a campaign recipient's delegation or an offer's
 * reusable link — by the SHA-256 of its token. Null for anything unknown.
 */
export async function resolveOfferLink(
  db: DbOrTx,
  token: string,
  viewerOrgId?: string | null,
): Promise<ResolvedOfferLink | null> {
  if (!tokenShape.test(token)) return null;
  const hash = sha256Hex(token);
  const offerColumns = { ...getTableColumns(offers), expired: sql<boolean>`${offers.expiresAt} <= now()` };

  let delegation: Delegation | null = null;
  let offer: (Offer & { expired: boolean }) | undefined;
  const [personal] = await db.select().from(delegations).where(eq(delegations.tokenHash, hash));
  if (personal) {
    delegation = personal;
    [offer] = await db.select(offerColumns).from(offers).where(eq(offers.id, personal.offerId));
  } else {
    [offer] = await db.select(offerColumns).from(offers).where(eq(offers.tokenHash, hash));
  }
  if (!offer) return null;

  const [partner] = await db
    .select({ name: organizations.name })
    .from(organizations)
    .where(eq(organizations.id, offer.partnerId));
  const live = viewerOrgId ? await findLiveDelegation(db, offer.partnerId, viewerOrgId) : null;
  return {
    offer,
    partnerName: partner?.name ?? '',
    roles: sortRoles(delegation?.roles ?? offer.roles),
    optionalRoles: sortRoles(offer.optionalRoles.filter((role) => !(delegation?.roles ?? offer.roles).includes(role))),
    delegation,
    facts: {
      kind: delegation ? 'personal' : 'reusable',
      offerRevoked: offer.revokedAt !== null,
      offerExpired: offer.expired,
      ...(delegation
        ? { delegation: { id: delegation.id, state: delegation.state, clientOrgId: delegation.clientOrgId } }
        : {}),
      liveForViewer: live ? { id: live.id } : null,
    },
  };
}

/** The accepting or active delegation between a partner and a client, if any. */
export async function findLiveDelegation(db: DbOrTx, partnerId: string, clientOrgId: string) {
  const [row] = await db
    .select({ id: delegations.id, state: delegations.state })
    .from(delegations)
    .where(
      and(
        eq(delegations.partnerId, partnerId),
        eq(delegations.clientOrgId, clientOrgId),
        inArray(delegations.state, [...liveDelegationStates]),
      ),
    );
  return row ?? null;
}
