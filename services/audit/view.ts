import { and, desc, eq, lt } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import type { Db } from '../../db/client.ts';
import { auditEvents } from '../../db/schema/index.ts';
import { toPage, unknownCursor } from '../shared/pagination.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

// Audit ids are numbers (an identity column), not prefixed ids: their cursor has a format of its own.
const encode = (id: number) => Buffer.from(`aud:${id}`).toString('base64url');
function decode(cursor: string | undefined): number | undefined {
  if (!cursor) return undefined;
  const match = /^aud:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw unknownCursor();
  return Number(match[1]);
}

/** What the partner's people and jobs did, newest first, optionally in one client organization. Owners only. */
export async function listPartnerAudit(
  db: Db,
  principal: PartnerPrincipal,
  query: { clientOrgId?: string | undefined; cursor?: string | undefined; limit: number },
) {
  if (!principal.isOwner) throw new AppError('NOT_AUTHORIZED', "Only the partner's owners read the audit trail");
  const before = decode(query.cursor);
  const rows = await db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.partnerId, principal.partnerId),
        query.clientOrgId ? eq(auditEvents.orgId, query.clientOrgId) : undefined,
        before !== undefined ? lt(auditEvents.id, before) : undefined,
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (last) => encode(last.id));
  return {
    items: page.items.map((e) => ({
      at: e.createdAt.toISOString(),
      actorUserId: e.actorUserId,
      orgId: e.orgId,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      outcome: e.outcome,
      requestId: e.requestId,
      detail: e.detail,
    })),
    nextCursor: page.nextCursor,
  };
}
