import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { newId, requireId } from '../../core/ids.ts';
import { apiTokens } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { newApiToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/**
 * A staff member's own API tokens: the way to the partner API now that staff creation
 * hands out none. Each acts as the staff member, with their access of the moment
 * (services/shared/principals.ts reads it on every request).
 */
export interface ApiTokenView {
  id: string;
  label: string;
  createdAt: string;
}

/** The signed-in staff member's tokens that still work, newest first. */
export async function listOwnApiTokens(deps: Pick<Deps, 'db'>, principal: PartnerPrincipal): Promise<ApiTokenView[]> {
  const rows = await deps.db
    .select({ id: apiTokens.id, label: apiTokens.label, createdAt: apiTokens.createdAt })
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.userId, principal.userId),
        eq(apiTokens.orgId, principal.partnerId),
        isNull(apiTokens.revokedAt),
      ),
    )
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
  return rows.map((r) => ({ id: r.id, label: r.label, createdAt: r.createdAt.toISOString() }));
}

/** Creates a token for the staff member themselves; returns it once (only its SHA-256 is kept). */
export async function createOwnApiToken(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  label: string,
  requestId?: string,
): Promise<ApiTokenView & { token: string }> {
  const id = newId('apiToken');
  const token = newApiToken();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({ id, userId: principal.userId, orgId: principal.partnerId, tokenHash: sha256Hex(token), label })
      .returning({ createdAt: apiTokens.createdAt });
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'api_token.create',
      targetType: 'api_token',
      targetId: id,
      outcome: 'succeeded',
      requestId,
      detail: { label },
    });
    return { id, label, createdAt: (row?.createdAt ?? new Date()).toISOString(), token };
  });
}

/** Revokes one of the staff member's own tokens; anyone else's is NOT_FOUND, as is a revoked one. */
export async function revokeOwnApiToken(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  tokenId: string,
  requestId?: string,
): Promise<void> {
  requireId('apiToken', tokenId, 'API token');
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, principal.userId), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    if (!row) throw new AppError('NOT_FOUND', 'No such API token of yours');
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'api_token.revoke',
      targetType: 'api_token',
      targetId: tokenId,
      outcome: 'succeeded',
      requestId,
    });
  });
}
