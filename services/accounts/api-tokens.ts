import { and, desc, eq, isNull, or, type SQL, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { MAX_TOKEN_DAYS, scopesAllowedFor, type TokenScope, tokenScopes } from '../../core/token-scopes.ts';
import { apiTokens, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { newApiToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/**
 * Staff members' API tokens: each acts as its holder, with their access of the moment
 * (services/shared/principals.ts reads it on every request) and never beyond the token's
 * scopes. Each staff member makes their own; owners see every token of the partner and
 * may revoke any. The secret is returned once and only its SHA-256 kept.
 */
export interface ApiTokenView {
  id: string;
  name: string;
  scopes: TokenScope[];
  createdAt: string;
  expiresAt: string;
  /** Null until first used; moves at most once a minute. */
  lastUsedAt: string | null;
  /** Past its expiry (listed still, so its holder sees why it stopped working). */
  expired: boolean;
  holder: { userId: string; email: string };
}

export interface NewApiToken {
  name: string;
  scopes: readonly TokenScope[];
  expiresInDays: number;
}

/**
 * The tokens that are not revoked, newest first: the principal's own, or with `all` (owners
 * only) every token of the partner.
 */
export async function listApiTokens(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  options: { all?: boolean } = {},
): Promise<ApiTokenView[]> {
  if (options.all && !principal.isOwner) {
    throw new AppError('NOT_AUTHORIZED', "Only the partner's owners see every token of the partner");
  }
  const rows = await deps.db
    .select({
      id: apiTokens.id,
      name: apiTokens.label,
      scopes: apiTokens.scopes,
      createdAt: apiTokens.createdAt,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      expired: sql<boolean>`${apiTokens.expiresAt} <= now()`,
      userId: apiTokens.userId,
      email: users.email,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        eq(apiTokens.orgId, principal.partnerId),
        options.all ? undefined : eq(apiTokens.userId, principal.userId),
        isNull(apiTokens.revokedAt),
      ),
    )
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scopes: tokenScopes.filter((s) => r.scopes.includes(s)),
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    expired: r.expired,
    holder: { userId: r.userId, email: r.email },
  }));
}

/**
 * Creates a token for the principal themselves. Its scopes stay within what the holder's
 * access allows (NOT_AUTHORIZED) and, when the request comes with a token, within that
 * token's scopes (INSUFFICIENT_SCOPE) — and it ends no later than that token: a token can
 * never mint a broader or longer-lived one, so a leaked token cannot outlive its revocation
 * date by making successors. Returns the secret once.
 */
export async function createApiToken(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  input: NewApiToken,
  requestId?: string,
): Promise<ApiTokenView & { token: string }> {
  if (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 1 || input.expiresInDays > MAX_TOKEN_DAYS) {
    throw new AppError('VALIDATION_FAILED', `A token lasts 1 to ${MAX_TOKEN_DAYS} days`);
  }
  const scopes = tokenScopes.filter((s) => input.scopes.includes(s));
  if (scopes.length === 0 || scopes.length !== new Set(input.scopes).size) {
    throw new AppError('VALIDATION_FAILED', 'Give the token one or more known scopes');
  }
  const allowed = scopesAllowedFor(principal);
  const beyondAccess = scopes.filter((s) => !allowed.includes(s));
  if (beyondAccess.length > 0) {
    throw new AppError('NOT_AUTHORIZED', `Your access does not allow the scopes ${beyondAccess.join(', ')}`);
  }
  const beyondToken = principal.token ? scopes.filter((s) => !principal.token?.scopes.includes(s)) : [];
  if (beyondToken.length > 0) {
    throw new AppError(
      'INSUFFICIENT_SCOPE',
      `A token can only create tokens with its own scopes; this one lacks ${beyondToken.join(', ')}`,
    );
  }
  // A token made by a token makes none: one revocation must reach every copy.
  if (principal.token?.parentTokenId) {
    throw new AppError('NOT_AUTHORIZED', 'A token made by another token cannot make tokens: use the dashboard');
  }
  const requested: SQL = sql`now() + make_interval(days => ${input.expiresInDays})`;
  const expiresAt = principal.token
    ? sql`least(${requested}, ${principal.token.expiresAt.toISOString()}::timestamptz)`
    : requested;
  const id = newId('apiToken');
  const token = newApiToken();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({
        id,
        userId: principal.userId,
        orgId: principal.partnerId,
        tokenHash: sha256Hex(token),
        label: input.name,
        scopes,
        expiresAt,
        parentTokenId: principal.tokenId,
      })
      .returning({ createdAt: apiTokens.createdAt, expiresAt: apiTokens.expiresAt });
    if (!row) throw new Error('the token was not inserted');
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'api_token.create',
      targetType: 'api_token',
      targetId: id,
      outcome: 'succeeded',
      requestId,
      detail: { label: input.name, scopes, expiresAt: row.expiresAt.toISOString(), byToken: principal.tokenId },
    });
    return {
      id,
      name: input.name,
      scopes,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      lastUsedAt: null,
      expired: false,
      holder: { userId: principal.userId, email: principal.email },
      token,
    };
  });
}

/**
 * Revokes a token at once (the next request with it is 401): any of the partner's for an
 * owner, one's own for other staff. Anyone else's — another staff member's, another
 * partner's — is NOT_FOUND, as is a revoked one: nothing changes.
 */
export async function revokeApiToken(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  tokenId: string,
  requestId?: string,
): Promise<void> {
  requireId('apiToken', tokenId, 'API token');
  // Through a token without staff:write, only itself and the tokens it made: a leaked
  // read-only token must not take down every integration of the partner.
  const narrow = principal.token && !principal.token.scopes.includes('staff:write') ? principal.tokenId : null;
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(apiTokens.id, tokenId),
          eq(apiTokens.orgId, principal.partnerId),
          principal.isOwner ? undefined : eq(apiTokens.userId, principal.userId),
          narrow ? or(eq(apiTokens.id, narrow), eq(apiTokens.parentTokenId, narrow)) : undefined,
          isNull(apiTokens.revokedAt),
        ),
      )
      .returning({ id: apiTokens.id, holderUserId: apiTokens.userId });
    if (!row && narrow) {
      throw new AppError(
        'INSUFFICIENT_SCOPE',
        'Without the staff:write scope, a token revokes only itself and the tokens it made.',
      );
    }
    if (!row) throw new AppError('NOT_FOUND', 'No such API token that you may revoke');
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'api_token.revoke',
      targetType: 'api_token',
      targetId: tokenId,
      outcome: 'succeeded',
      requestId,
      detail: { holderUserId: row.holderUserId },
    });
  });
}
