import { z } from '@hono/zod-openapi';
import { operationKindNames } from '../../../core/operation-kinds.ts';
import { type Capability, describeRolesAllowing, rolesAllowing } from '../../../core/permissions.ts';
import { plainText } from '../../../core/text.ts';
import { operationStates } from '../../../db/schema/index.ts';

export const OperationSchema = z
  .object({
    id: z.string().openapi({ example: 'op_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    kind: z.enum(operationKindNames),
    state: z.enum(operationStates),
    attempts: z.number().int(),
    delegationId: z.string(),
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Operation');

/** What provisioning a user takes: the API's body, and the dashboard's form. */
export const ProvisionUserBody = z
  .object({
    displayName: plainText(200),
    userName: z.string().min(1).max(254).openapi({ example: 'jo' }),
    notifyEmail: z.email().max(254).optional(),
  })
  .strict()
  .openapi('ProvisionUser');

export const Accepted = z.object({ operationId: z.string() }).openapi('OperationAccepted');

export const DelegationParam = z.object({
  id: z
    .string()
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
});

/**
 * What a route needs, from the one table (core/permissions.ts): a sentence for its
 * description and `x-roles` (capability → the roles that allow it, the least first).
 */
export function requiredRoles(...needed: Capability[]) {
  const sentence = needed.map((c) => `\`${c}\` needs ${describeRolesAllowing(c)}`).join('; ');
  return {
    'x-roles': Object.fromEntries(needed.map((c) => [c, rolesAllowing(c)])),
    sentence: `Roles: ${sentence} — granted by the client in the delegation and held by you.`,
  };
}
