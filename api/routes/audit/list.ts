import { createRoute, z } from '@hono/zod-openapi';
import { auditActions, auditOutcomes } from '../../../core/audit-actions.ts';
import { auditFilters } from '../../../core/audit-filters.ts';
import { auditCsv, partnerAuditScope, queryAudit } from '../../../services/audit/trail.ts';
import type { App } from '../../env.ts';
import { needsScope, PageQuery, problems } from '../../schemas.ts';

const AuditEvent = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actorUserId: z.string().nullable(),
    actor: z.string().openapi({ description: 'The address of who acted, or "Mandate (automatic)"' }),
    partnerId: z.string().nullable(),
    partnerName: z.string().nullable(),
    orgId: z.string(),
    orgName: z.string(),
    action: z.string().openapi({ description: 'A code of the audit catalogue (older rows may hold a retired one)' }),
    label: z.string().openapi({ description: 'The action in words, as the pages show it' }),
    outcome: z.enum(auditOutcomes),
    outcomeLabel: z.string(),
    about: z
      .string()
      .nullable()
      .openapi({ description: "What it was about: a user's address, a domain, a token's name" }),
    reason: z.string().nullable().openapi({ description: 'Why it failed, was refused, or has not finished' }),
    changes: z
      .array(z.string())
      .openapi({ description: 'What an operation changed as it went, in words (also when it failed or was refused)' }),
    targetType: z.string(),
    targetId: z.string(),
    requestId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AuditEvent');

export const AuditQuery = PageQuery.extend({
  clientOrgId: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: "Only what happened in this client's organization" }),
  actor: z
    .string()
    .max(320)
    .optional()
    .openapi({ description: 'Who acted: an address, a user id, or `system` for what Mandate did by itself' }),
  action: z.enum(auditActions as [string, ...string[]]).optional(),
  outcome: z.enum(auditOutcomes).optional(),
  from: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'From this day (UTC) or moment, inclusive', example: '2026-11-01' }),
  to: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'To this day (UTC, the whole day) or moment', example: '2026-11-30' }),
  format: z.enum(['json', 'csv']).default('json').openapi({
    description: '`csv`: every event that matches, streamed as one CSV file (cursor and limit do not apply)',
  }),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/audit',
  operationId: 'listAuditEvents',
  tags: ['Audit'],
  summary: "What the partner's people and jobs did, newest first, filtered; or all of it as CSV (owners only)",
  security: needsScope('read'),
  request: { query: AuditQuery },
  responses: {
    200: {
      description: 'A page of audit events, or with `format=csv` all of them as CSV',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(AuditEvent), nextCursor: z.string().nullable() }).openapi('AuditPage'),
        },
        'text/csv': { schema: z.string() },
      },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListAudit = (app: App) =>
  app.openapi(route, async (c) => {
    const { cursor, limit, clientOrgId, format, ...input } = c.req.valid('query');
    const scope = partnerAuditScope(c.var.principal, clientOrgId);
    const filters = auditFilters(input);
    if (format === 'csv') {
      c.header('Content-Type', 'text/csv; charset=utf-8');
      c.header('Content-Disposition', 'attachment; filename="audit.csv"');
      c.header('Cache-Control', 'no-store');
      return c.body(auditCsv(c.var.deps.db, scope, filters), 200);
    }
    const page = await queryAudit(c.var.deps.db, scope, filters, { cursor, limit });
    return c.json(
      { items: page.items.map((e) => ({ ...e, at: e.at.toISOString() })), nextCursor: page.nextCursor },
      200,
    );
  });
