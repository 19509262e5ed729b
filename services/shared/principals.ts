import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { isTokenScope, type TokenScope } from '../../core/token-scopes.ts';
import type { Db } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import { apiTokens, type Delegation, delegations, organizations, staffAccess, users } from '../../db/schema/index.ts';
import { API_TOKEN_PREFIX, sha256Hex } from '../../lib/secrets.ts';
import { type DelegationEventJson, delegationTimelineJson } from './delegation-timeline.ts';
import { userHasSecondFactor } from './users.ts';

/** The partner user behind an API request. */
export interface PartnerPrincipal {
  userId: string;
  partnerId: string;
  email: string;
  isOwner: boolean;
  roles: string[];
  /** The API token used; null when signed in on the dashboard with a session. */
  tokenId: string | null;
  /**
   * What the API token may do and until when; null on the dashboard, where a session is
   * limited by the staff access alone.
   */
  token: { scopes: readonly TokenScope[]; expiresAt: Date; parentTokenId: string | null } | null;
  /**
   * Signed in on the dashboard: whether the job board opens to this user (the owners of
   * the partner operating the instance; api/web/shared/staff-access.ts). Unset with a token.
   */
  opensJobBoard?: boolean;
}

/** What a bearer token resolves to: its principal, and what the middleware still has to judge. */
export interface ApiTokenLookup extends PartnerPrincipal {
  token: { scopes: readonly TokenScope[]; expiresAt: Date; parentTokenId: string | null };
  secondFactorMissing: boolean;
  /** Past its expiry by the database clock (the middleware answers 401 with the date). */
  expired: boolean;
}

/** A token's last use moves at most once a minute: a busy client does not write on every request. */
const lastUseDue = sql<boolean>`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} <= now() - interval '1 minute')`;

const parentToken = alias(apiTokens, 'parent_token');

const tokenLookup = preparedPerDb((db) =>
  db
    .select({
      tokenId: apiTokens.id,
      parentTokenId: apiTokens.parentTokenId,
      scopes: apiTokens.scopes,
      expiresAt: apiTokens.expiresAt,
      expired: sql<boolean>`${apiTokens.expiresAt} <= now()`,
      // Written back at most once a minute (touchApiToken).
      touchDue: lastUseDue,
      userId: users.id,
      email: users.email,
      partnerId: staffAccess.partnerId,
      isOwner: staffAccess.isOwner,
      roles: staffAccess.roles,
      secondFactorMissing: sql<boolean>`(${organizations.requireTwoFactor} and not ${userHasSecondFactor})`,
      // The delegation the request names (`delegationId`, null for every other route), of
      // this token's partner, with its timeline: GET /v1/delegations/{id} is then one
      // statement, and the token is still checked on every request.
      delegation: delegations,
      events: sql<
        DelegationEventJson[] | null
      >`case when ${delegations.id} is null then null else ${delegationTimelineJson(delegations.id)} end`,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .innerJoin(staffAccess, and(eq(staffAccess.userId, users.id), eq(staffAccess.partnerId, apiTokens.orgId)))
    .innerJoin(organizations, and(eq(organizations.id, staffAccess.partnerId), eq(organizations.kind, 'partner')))
    // A token made by a token opens nothing once its maker is revoked.
    .leftJoin(parentToken, eq(parentToken.id, apiTokens.parentTokenId))
    .leftJoin(
      delegations,
      and(eq(delegations.id, sql.placeholder('delegationId')), eq(delegations.partnerId, staffAccess.partnerId)),
    )
    .where(
      and(
        eq(apiTokens.tokenHash, sql.placeholder('tokenHash')),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.parentTokenId), isNull(parentToken.revokedAt)),
      ),
    )
    .prepare('authenticate_api_token'),
);

/** A delegation with its timeline, as the token's statement reads it for GET /v1/delegations/{id}. */
export interface DelegationRead {
  delegation: Delegation;
  events: DelegationEventJson[];
}

/**
 * Resolves a bearer token to the partner user it belongs to, or null. Revoked tokens,
 * tokens of users without staff access and tokens of client users all resolve to null:
 * the partner API is for partners only. An expired token resolves, with `expired`, so the
 * caller can say when it ended; `token.scopes` are for the caller to hold against the
 * route. `secondFactorMissing`: the partner requires two-factor sign-in and the token's
 * user has not set it up — the caller refuses it.
 */
export async function authenticateApiToken(
  db: Db,
  token: string,
  onTouchFailed: (error: unknown) => void = () => {},
  reads: { delegationId?: string | undefined } = {},
): Promise<(ApiTokenLookup & { delegationRead: DelegationRead | null }) | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  // Not cached, so a revoked token or lowered staff access takes effect on the very next
  // request; prepared instead (db/prepared.ts), to keep it to one round trip.
  const [row] = await tokenLookup(db).execute({
    tokenHash: sha256Hex(token),
    delegationId: reads.delegationId ?? null,
  });
  if (!row) return null;
  const { scopes, expiresAt, touchDue, parentTokenId, delegation, events, ...principal } = row;
  const rest = { ...principal, delegationRead: delegation ? { delegation, events: events ?? [] } : null };
  // Not awaited: the request does not wait for a second round trip to record a fact only
  // the token list shows; a lost write is at worst a minute-old "last used". Errors are
  // reported, never thrown into the request.
  if (touchDue && !row.expired) touchApiToken(db, row.tokenId).catch(onTouchFailed);
  return { ...rest, token: { scopes: scopes.filter(isTokenScope), expiresAt, parentTokenId } };
}

/** Sets a token's last use to now, at most once a minute (guarded, so racing requests write once). */
async function touchApiToken(db: Db, tokenId: string): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiTokens.id, tokenId), lastUseDue));
}

/**
 * The partner principal of a signed-in user (the dashboard's sessions), or null when the
 * user is not staff of a partner — a client's user, say.
 */
export async function findStaffPrincipal(db: Db, userId: string): Promise<PartnerPrincipal | null> {
  const [row] = await db
    .select({
      userId: users.id,
      email: users.email,
      partnerId: staffAccess.partnerId,
      isOwner: staffAccess.isOwner,
      roles: staffAccess.roles,
    })
    .from(users)
    .innerJoin(staffAccess, and(eq(staffAccess.userId, users.id), eq(staffAccess.partnerId, users.orgId)))
    .innerJoin(organizations, and(eq(organizations.id, staffAccess.partnerId), eq(organizations.kind, 'partner')))
    .where(eq(users.id, userId));
  return row ? { ...row, tokenId: null, token: null } : null;
}
