import { createRoute } from '@hono/zod-openapi';
import { AMENDMENT_ANSWER_DAYS } from '../../../core/amendment-machine.ts';
import { MAX_DURATION_DAYS } from '../../../core/offer-rules.ts';
import { proposeAmendment } from '../../../services/delegations/amendments.ts';
import type { App } from '../../env.ts';
import { IdempotencyHeaders, IdParam, needsScope, problems } from '../../schemas.ts';
import { AmendmentRequestSchema, AmendmentSchema } from './amendment-schemas.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/delegations/{id}/amendments',
  operationId: 'proposeAmendment',
  tags: ['Delegations'],
  summary: 'Change an active delegation: reductions at once, additions with the client’s yes',
  description: [
    'The consent rule: a partner may reduce what it holds at any time, and gains nothing without the client’s yes.',
    '',
    '- **Reductions** (`removeRoles`, `autoExtend: false`) apply at once: the answer’s `state` is `applied`, the client’s global admins are emailed.',
    `- **Additions** (\`addRoles\`, \`extendDays\` — any extension goes beyond what the client agreed — and \`autoExtend: true\`) are \`pending\`: each global admin of the client organization is emailed a personal link to accept or decline, for ${AMENDMENT_ANSWER_DAYS} days. On accept the change applies to the same delegation (same id; its timeline gets an \`amend\` event with the terms before and after); on decline or expiry nothing changes. Both sides are emailed.`,
    '- **Both in one request**: the reducing part applies at once and the adding part waits. The answer is the pending addition, with the applied reduction in `appliedAtOnce` (two amendments, each with its own id).',
    '',
    `One addition may wait per delegation (another → 409 \`CONFLICT\`, naming \`pendingAmendmentId\`). Refused with 422 \`VALIDATION_FAILED\`, nothing changed: nothing to change, a role both added and removed, a role added that is already granted or removed that is not, removing every role (end the delegation instead), auto-extend on with \`global_admin\`, a new end more than ${MAX_DURATION_DAYS} days from now. A delegation that is not active, or past its end, → 409 \`INVALID_TRANSITION\`. Owners and staff with full access only.`,
  ].join('\n'),
  security: needsScope('delegations:write'),
  request: {
    params: IdParam('DelegationId', 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e'),
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: AmendmentRequestSchema } } },
  },
  responses: {
    202: {
      description:
        'Recorded: `applied` (a reduction) or `pending` (an addition, waiting for the client). A mixed request answers the pending addition with the applied reduction in `appliedAtOnce`',
      content: {
        'application/json': {
          schema: AmendmentSchema.extend({
            appliedAtOnce: AmendmentSchema.optional().openapi({
              description: 'In a request that both reduces and adds: the reducing part, applied at once',
            }),
          }).openapi('AmendmentProposal'),
        },
      },
    },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export const registerCreateAmendment = (app: App) =>
  app.openapi(route, async (c) =>
    c.json(
      await proposeAmendment(
        c.var.deps,
        c.var.principal,
        c.req.valid('param').id,
        c.req.valid('json'),
        c.var.requestId,
      ),
      202,
    ),
  );
