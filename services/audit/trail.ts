import { and, desc, eq, gte, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type AuditOutcome, auditActionLabel, auditOutcomeLabels, changesInWords } from '../../core/audit-actions.ts';
import { auditExportHeader, auditExportLine, reasonInWords } from '../../core/audit-export.ts';
import type { AuditFilters } from '../../core/audit-filters.ts';
import { AppError } from '../../core/errors.ts';
import type { Db } from '../../db/client.ts';
import { auditEvents, domains, organizations, users } from '../../db/schema/index.ts';
import { pagedCsv } from '../../lib/paged-csv.ts';
import { type Page, toPage, unknownCursor } from '../shared/pagination.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/**
 * An audit trail as people read it: the client's (everything that happened in its
 * organization) and the partner's (everything its people and jobs did, anywhere) — paged
 * newest first, filtered, in plain words. The API, the pages and the CSV exports all read
 * through here, so they show the same rows with the same words.
 */
export type AuditScope = { orgId: string } | { partnerId: string; clientOrgId?: string | undefined };

/** The partner's trail, for its owners only: what its people and jobs did (in one client's organization, if given). */
export function partnerAuditScope(principal: PartnerPrincipal, clientOrgId?: string): AuditScope {
  if (!principal.isOwner) throw new AppError('NOT_AUTHORIZED', "Only the partner's owners read the audit trail");
  return { partnerId: principal.partnerId, clientOrgId };
}

export interface AuditEntry {
  /** The row's number: the key of the cursor, and a stable reference. */
  id: number;
  at: Date;
  actorUserId: string | null;
  /** The actor's address, or "Mandate (automatic)". */
  actor: string;
  partnerId: string | null;
  partnerName: string | null;
  orgId: string;
  orgName: string;
  action: string;
  /** The action in words (core/audit-actions.ts). */
  label: string;
  outcome: AuditOutcome;
  outcomeLabel: string;
  targetType: string;
  targetId: string;
  /** What it was about, in words a person knows: the user's address, the domain, the token's name. */
  about: string | null;
  /** Why it failed, was refused, or has not finished yet. */
  reason: string | null;
  /** What an operation changed, in words, as it went (a failed or refused one may have changed something). */
  changes: string[];
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

export const SYSTEM_ACTOR = 'Mandate (automatic)';

// Audit ids are numbers (an identity column), not prefixed ids: their cursor has a format of its own.
const encode = (id: number) => Buffer.from(`aud:${id}`).toString('base64url');
function decode(cursor: string | undefined): number | undefined {
  if (!cursor) return undefined;
  const match = /^aud:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw unknownCursor();
  return Number(match[1]);
}

const actorUser = alias(users, 'actor');
const partnerOrg = alias(organizations, 'partner_org');
const targetUser = alias(users, 'target_user');
const namedUser = alias(users, 'named_user');

/** Who or what a row is about, in words: resolved from its target, else from what it recorded. */
const about = sql<string | null>`coalesce(
  ${targetUser.email},
  (select ${domains.name} from ${domains} where ${domains.id} = ${auditEvents.targetId} and ${auditEvents.targetType} = 'domain'),
  ${auditEvents.detail} ->> 'email',
  ${namedUser.email},
  ${auditEvents.detail} ->> 'name',
  ${auditEvents.detail} ->> 'route')`;

/** Why it did not succeed (or has not yet): the error, the refusal's reason or code, the last attempt's error. */
const reason = sql<string | null>`case when ${auditEvents.outcome} <> 'succeeded' then coalesce(
  ${auditEvents.detail} ->> 'error',
  ${auditEvents.detail} ->> 'reason',
  ${auditEvents.detail} ->> 'code',
  ${auditEvents.detail} ->> 'lastError') end`;

function where(scope: AuditScope, filters: AuditFilters, before: number | undefined): SQL | undefined {
  const actor = filters.actor;
  return and(
    'orgId' in scope
      ? eq(auditEvents.orgId, scope.orgId)
      : and(
          eq(auditEvents.partnerId, scope.partnerId),
          scope.clientOrgId ? eq(auditEvents.orgId, scope.clientOrgId) : undefined,
        ),
    actor === undefined
      ? undefined
      : actor === 'system'
        ? isNull(auditEvents.actorUserId)
        : or(eq(auditEvents.actorUserId, actor), sql`lower(${actorUser.email}) = lower(${actor})`),
    filters.action ? eq(auditEvents.action, filters.action) : undefined,
    filters.outcome ? eq(auditEvents.outcome, filters.outcome) : undefined,
    filters.from ? gte(auditEvents.createdAt, filters.from) : undefined,
    filters.before ? lt(auditEvents.createdAt, filters.before) : undefined,
    before !== undefined ? lt(auditEvents.id, before) : undefined,
  );
}

/** One page of a trail, newest first. */
export async function queryAudit(
  db: Db,
  scope: AuditScope,
  filters: AuditFilters,
  page: { cursor?: string | undefined; limit: number },
): Promise<Page<AuditEntry>> {
  const rows = await db
    .select({
      id: auditEvents.id,
      at: auditEvents.createdAt,
      actorUserId: auditEvents.actorUserId,
      actorEmail: actorUser.email,
      partnerId: auditEvents.partnerId,
      partnerName: partnerOrg.name,
      orgId: auditEvents.orgId,
      orgName: organizations.name,
      action: auditEvents.action,
      outcome: auditEvents.outcome,
      targetType: auditEvents.targetType,
      targetId: auditEvents.targetId,
      about,
      reason,
      requestId: auditEvents.requestId,
      detail: auditEvents.detail,
    })
    .from(auditEvents)
    .innerJoin(organizations, eq(organizations.id, auditEvents.orgId))
    .leftJoin(actorUser, eq(actorUser.id, auditEvents.actorUserId))
    .leftJoin(partnerOrg, eq(partnerOrg.id, auditEvents.partnerId))
    .leftJoin(targetUser, and(eq(targetUser.id, auditEvents.targetId), eq(auditEvents.targetType, 'user')))
    .leftJoin(namedUser, eq(namedUser.id, sql`${auditEvents.detail} ->> 'userId'`))
    .where(where(scope, filters, decode(page.cursor)))
    .orderBy(desc(auditEvents.id))
    .limit(page.limit + 1);
  const entries = rows.map(
    ({ actorEmail, ...r }): AuditEntry => ({
      ...r,
      actor: r.actorUserId === null ? SYSTEM_ACTOR : (actorEmail ?? r.actorUserId),
      label: auditActionLabel(r.action),
      outcomeLabel: auditOutcomeLabels[r.outcome],
      reason: r.reason === null ? null : reasonInWords(r.reason),
      changes: changesInWords(r.detail),
    }),
  );
  return toPage(entries, page.limit, (last) => encode(last.id));
}

/**
 * A whole trail (as filtered) as CSV, streamed a page at a time: the columns the pages
 * show, in the same words, then the codes a program would want.
 */
export function auditCsv(db: Db, scope: AuditScope, filters: AuditFilters): ReadableStream<Uint8Array> {
  return pagedCsv(
    auditExportHeader,
    (cursor) => queryAudit(db, scope, filters, { cursor, limit: 1000 }),
    auditExportLine,
  );
}
