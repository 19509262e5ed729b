import { createRoute } from '@hono/zod-openapi';
import { inviteStaff } from '../../../services/accounts/staff-invitations.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, needsScope, problems } from '../../schemas.ts';
import { CreateStaffBody, InvitationSentSchema } from './schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/staff',
  operationId: 'inviteStaff',
  tags: ['Staff'],
  summary: 'Invite a staff member (owners only)',
  description:
    "Emails the address an invitation to the partner's staff, valid 7 days, and answers 202 with the same body for every address: nothing is created until the person behind it follows the link and chooses a password (their access is then the one given here). An address that already has a Mandate account elsewhere cannot join — one address belongs to one organization — and is told so by email, not in this answer; its invitation is listed like any other until it expires. Inviting an address again replaces its pending invitation (the old link stops working). Only an address already on the partner's own staff is answered differently (409), since it is in the staff list. No password or API token is handed out: staff create their own tokens on the dashboard (/dashboard/tokens). At most 100 invitations per partner and hour (429).",
  security: needsScope('staff:write'),
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CreateStaffBody } } },
  },
  responses: {
    202: {
      description: 'Invitation emailed (the same answer whoever holds the address)',
      content: { 'application/json': { schema: InvitationSentSchema } },
    },
    ...problems(400, 401, 403, 409, 413, 415, 422, 429),
  },
});

export const registerCreateStaff = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(await inviteStaff(c.var.deps, c.var.principal, c.req.valid('json'), c.var.requestId), 202),
  );
