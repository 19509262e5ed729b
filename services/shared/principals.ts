import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { isTokenScope, type TokenScope } from '../../core/token-scopes.ts';
import type { Db } from '../../db/client.ts';
import { preparedPerDb } from '../../db/prepared.ts';
import { apiTokens, organizations, staffAccess, users } from '../../db/schema/index.ts';
import { API_TOKEN_PREFIX, sha256Hex } from '../../lib/secrets.ts';
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
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .innerJoin(staffAccess, and(eq(staffAccess.userId, users.id), eq(staffAccess.partnerId, apiTokens.orgId)))
    .innerJoin(organizations, and(eq(organizations.id, staffAccess.partnerId), eq(organizations.kind, 'partner')))
    // A token made by a token opens nothing once its maker is revoked.
    .leftJoin(parentToken, eq(parentToken.id, apiTokens.parentTokenId))
    .where(
      and(
        eq(apiTokens.tokenHash, sql.placeholder('tokenHash')),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.parentTokenId), isNull(parentToken.revokedAt)),
      ),
    )
    .prepare('authenticate_api_token'),
);

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
): Promise<ApiTokenLookup | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  // Not cached, so a revoked token or lowered staff access takes effect on the very next
  // request; prepared instead (db/prepared.ts), to keep it to one round trip.
  const [row] = await tokenLookup(db).execute({ tokenHash: sha256Hex(token) });
  if (!row) return null;
  const { scopes, expiresAt, touchDue, parentTokenId, ...rest } = row;
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
