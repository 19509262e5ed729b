import { createRoute, z } from '@hono/zod-openapi';
import { listPartnerAudit } from '../../../services/audit/view.ts';
import type { App } from '../../env.ts';
import { needsScope, PageQuery, problems } from '../../schemas.ts';

const AuditEvent = z
  .object({
    at: z.string(),
    actorUserId: z.string().nullable(),
    orgId: z.string(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string(),
    outcome: z.enum(['succeeded', 'failed', 'rejected']),
    requestId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AuditEvent');

export const route = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags: ['Audit'],
  summary: "What the partner's people and jobs did, newest first (owners only)",
  security: needsScope('read'),
  request: { query: PageQuery.extend({ clientOrgId: z.string().max(100).optional() }) },
  responses: {
    200: {
      description: 'A page of audit events',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(AuditEvent), nextCursor: z.string().nullable() }).openapi('AuditPage'),
        },
      },
    },
    ...problems(401, 403, 422),
  },
});

export const registerListAudit = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await listPartnerAudit(c.var.deps.db, c.var.principal, c.req.valid('query')), 200),
  );
