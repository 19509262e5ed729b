import { and, desc, eq, getTableColumns, isNull, lt, sql } from 'drizzle-orm';
import { type AccessLevel, presetAccess } from '../../core/access.ts';
import { statesAccepting } from '../../core/delegation-machine.ts';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import {
  checkOfferTerms,
  DEFAULT_OFFER_EXPIRY_DAYS,
  offerRolesFrom,
  type RoleRequest,
} from '../../core/offer-rules.ts';
import { canSendOffers, seesOfferLink } from '../../core/partner-permissions.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { delegations, type Offer, offers } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import type { Deps } from '../../lib/deps.ts';
import { offerLinkToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import { applyTransitionToMany } from '../delegations/transitions.ts';
import { decodeCursor, toPage } from '../shared/pagination.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

export interface OfferView {
  id: string;
  name: string;
  /** Every role asked for; the client may leave out the optional ones. */
  roles: { role: Role; optional: boolean }[];
  /** The preset the roles are exactly (nothing optional), for clients of the first API. */
  access?: AccessLevel;
  durationDays: number;
  autoExtend: boolean;
  expiresAt: string;
  revokedAt: string | null;
  createdAt: string;
}

export function toOfferView(offer: Offer): OfferView {
  return {
    id: offer.id,
    name: offer.name,
    roles: [
      ...sortRoles(offer.roles).map((role) => ({ role, optional: false })),
      ...sortRoles(offer.optionalRoles).map((role) => ({ role, optional: true })),
    ],
    ...(offer.optionalRoles.length === 0 ? presetAccess(offer.roles) : {}),
    durationDays: offer.durationDays,
    autoExtend: offer.autoExtend,
    expiresAt: offer.expiresAt.toISOString(),
    revokedAt: offer.revokedAt?.toISOString() ?? null,
    createdAt: offer.createdAt.toISOString(),
  };
}

export function assertCanSendOffers(principal: PartnerPrincipal): void {
  if (!canSendOffers(principal)) {
    throw new AppError('NOT_AUTHORIZED', 'Your staff access does not allow sending offers');
  }
}

export interface CreateOfferInput {
  name: string;
  /** Either a preset or the roles (422 for both or neither). */
  access?: AccessLevel | undefined;
  roles?: RoleRequest[] | undefined;
  durationDays: number;
  autoExtend: boolean;
  expiresInDays?: number | undefined;
}

/**
 * Creates an offer with its reusable link. The link's token is derived from LINK_SECRET and
 * the offer's id (lib/secrets.ts `offerLinkToken`, docs/adr/0029): only its SHA-256 is kept,
 * and the partner's owners can be shown the link again ({@link getOffer}).
 */
export async function createOffer(
  deps: Pick<Deps, 'db' | 'config'>,
  principal: PartnerPrincipal,
  input: CreateOfferInput,
  requestId?: string,
): Promise<OfferView & { url: string }> {
  assertCanSendOffers(principal);
  const asked = offerRolesFrom(input);
  const issues = Array.isArray(asked) ? asked : checkOfferTerms({ ...input, ...asked });
  if (Array.isArray(asked) || issues.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'The offer terms are not allowed', { issues });
  }

  const id = newId('offer');
  const token = offerLinkToken(deps.config.linkSecret, id);
  const expiryDays = input.expiresInDays ?? DEFAULT_OFFER_EXPIRY_DAYS;
  const offer = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(offers)
      .values({
        id,
        partnerId: principal.partnerId,
        name: input.name,
        roles: asked.roles,
        optionalRoles: asked.optionalRoles,
        durationDays: input.durationDays,
        autoExtend: input.autoExtend,
        tokenHash: sha256Hex(token),
        expiresAt: sql`now() + make_interval(days => ${expiryDays})`,
        createdBy: principal.userId,
      })
      .returning();
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'offer.create',
      targetType: 'offer',
      targetId: id,
      outcome: 'succeeded',
      requestId,
      detail: {
        roles: asked.roles,
        optionalRoles: asked.optionalRoles,
        durationDays: input.durationDays,
        autoExtend: input.autoExtend,
      },
    });
    return row as Offer;
  });
  return { ...toOfferView(offer), url: offerUrl(deps.config, token) };
}

const offerUrl = (config: Pick<Config, 'publicUrl'>, token: string) => `${config.publicUrl}/offers/${token}`;

/**
 * An offer's reusable link, when it can be shown again: its token is the one derived from
 * LINK_SECRET (checked against the stored hash). Null for an offer made before links were
 * derived (a random token, shown once) or under another LINK_SECRET (the link no longer works).
 */
function derivableOfferUrl(config: Pick<Config, 'publicUrl' | 'linkSecret'>, offer: Offer): string | null {
  const token = offerLinkToken(config.linkSecret, offer.id);
  return sha256Hex(token) === offer.tokenHash ? offerUrl(config, token) : null;
}

/** One offer as its page shows it: with its link, or why the link is not shown. */
export interface OfferDetails extends OfferView {
  /** Still open to new recipients (neither revoked nor expired). */
  open: boolean;
  link:
    | { shown: true; url: string }
    /** `not-yours`: for owners and whoever made the offer; `not-kept`: shown once, when it was made. */
    | { shown: false; why: 'not-yours' | 'not-kept' };
}

/**
 * One offer of the partner, for whoever may read its data; its reusable link only for the
 * partner's owners and the offer's maker (core/partner-permissions.ts `seesOfferLink`).
 */
export async function getOffer(
  deps: Pick<Deps, 'db' | 'config'>,
  principal: PartnerPrincipal,
  offerId: string,
): Promise<OfferDetails> {
  assertSeesPartnerData(principal);
  const offer = await getOwnOffer(deps.db, principal.partnerId, offerId);
  const url = seesOfferLink(principal, offer.createdBy) ? derivableOfferUrl(deps.config, offer) : null;
  return {
    ...toOfferView(offer),
    open: offer.revokedAt === null && !offer.expired,
    link: url
      ? { shown: true, url }
      : { shown: false, why: seesOfferLink(principal, offer.createdBy) ? 'not-kept' : 'not-yours' },
  };
}

export async function listOffers(db: Db, principal: PartnerPrincipal, page: { cursor?: string; limit: number }) {
  assertSeesPartnerData(principal);
  const before = decodeCursor(page.cursor);
  const rows = await db
    .select()
    .from(offers)
    .where(and(eq(offers.partnerId, principal.partnerId), before ? lt(offers.id, before) : undefined))
    .orderBy(desc(offers.id))
    .limit(page.limit + 1);
  const result = toPage(rows, page.limit);
  return { items: result.items.map(toOfferView), nextCursor: result.nextCursor };
}

/**
 * An offer of this partner, or NOT_FOUND (also for another partner's offer). `expired`
 * is judged by the database clock. With `lock`, the row stays locked until the end of
 * the transaction: `share` for readers that must not overlap a revoke (which takes
 * `update`), so several campaigns of one offer can still be recorded at once.
 */
export async function getOwnOffer(
  db: DbOrTx,
  partnerId: string,
  offerId: string,
  options: { lock?: 'update' | 'share' } = {},
): Promise<Offer & { expired: boolean }> {
  requireId('offer', offerId, 'offer');
  const query = db
    .select({ ...getTableColumns(offers), expired: sql<boolean>`${offers.expiresAt} <= now()` })
    .from(offers)
    .where(and(eq(offers.id, offerId), eq(offers.partnerId, partnerId)));
  const [offer] = options.lock ? await query.for(options.lock) : await query;
  if (!offer) throw new AppError('NOT_FOUND', 'No such offer');
  return offer;
}

/** Throws unless new recipients may still be invited to the offer. */
export function assertOfferOpen(offer: { revokedAt: Date | null; expired: boolean }): void {
  if (offer.revokedAt) throw new AppError('OFFER_REVOKED', 'The offer has been revoked');
  if (offer.expired) throw new AppError('OFFER_EXPIRED', 'The offer has expired');
}

/**
 * Revokes an offer: its link stops working, and every delegation of it still waiting
 * for an answer (invited or offered) is terminated, so no email of it can be sent or
 * accepted any more. Delegations already accepted are not touched: revoking an offer
 * withdraws it, it does not end relationships (DELETE the delegation for that).
 * Revoking twice is harmless.
 */
export async function revokeOffer(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  offerId: string,
  requestId?: string,
): Promise<OfferView & { terminatedDelegations: number }> {
  assertCanSendOffers(principal);
  return deps.db.transaction(async (tx) => {
    const offer = await getOwnOffer(tx, principal.partnerId, offerId, { lock: 'update' });
    if (offer.revokedAt) return { ...toOfferView(offer), terminatedDelegations: 0 };
    const [revoked] = await tx
      .update(offers)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(offers.id, offerId), isNull(offers.revokedAt)))
      .returning();
    const terminated = await applyTransitionToMany(tx, {
      where: eq(delegations.offerId, offerId),
      from: statesAccepting('terminate').filter((s) => s === 'invited' || s === 'offered'),
      event: 'terminate',
      actor: { type: 'partner_user', id: principal.userId },
      set: { endedAt: sql`now()`, endedBy: principal.userId },
      detail: { reason: 'offer revoked' },
    });
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'offer.revoke',
      targetType: 'offer',
      targetId: offerId,
      outcome: 'succeeded',
      requestId,
      detail: { terminatedDelegations: terminated.length },
    });
    return { ...toOfferView(revoked as Offer), terminatedDelegations: terminated.length };
  });
}
