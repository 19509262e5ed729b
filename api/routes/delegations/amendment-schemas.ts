import { z } from '@hono/zod-openapi';
import { accessLevels } from '../../../core/access.ts';
import { AMENDMENT_ANSWER_DAYS, amendmentKinds, amendmentStates } from '../../../core/amendment-machine.ts';
import { MAX_DURATION_DAYS } from '../../../core/offer-rules.ts';
import { roles } from '../../../core/roles.ts';
import { RoleSchema } from '../../schemas.ts';

const roleList = (description: string) => z.array(RoleSchema).max(roles.length).optional().openapi({ description });

export const AmendmentRequestSchema = z
  .object({
    addRoles: roleList("Roles to ask for (an addition: applies only once the client's global admin accepts)"),
    removeRoles: roleList(
      'Roles to give up (a reduction: applies at once). Not every role: end the delegation instead',
    ),
    extendDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_DURATION_DAYS)
      .optional()
      .openapi({
        description: `Days to add to the end (an addition). The new end may be at most ${MAX_DURATION_DAYS} days from now`,
        example: 90,
      }),
    autoExtend: z.boolean().optional().openapi({
      description:
        'Turn auto-extend off (a reduction: at once) or on (an addition: needs the client; never with `global_admin`)',
    }),
  })
  .strict()
  .openapi('AmendmentRequest');

const TermsSchema = z
  .object({
    roles: z.array(RoleSchema),
    access: z
      .enum(accessLevels)
      .optional()
      .openapi({ description: 'The preset the roles are exactly, when they are one' }),
    endsAt: z.string().datetime(),
    autoExtend: z.boolean(),
  })
  .openapi('DelegationTerms');

export const AmendmentSchema = z
  .object({
    id: z.string().openapi({ example: 'amd_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    delegationId: z.string(),
    kind: z.enum(amendmentKinds).openapi({
      description: '`reduction`: gives up roles or auto-extend, applied at once. `addition`: asks the client for more',
    }),
    state: z.enum(amendmentStates).openapi({
      description: `\`applied\` (in effect), \`pending\` (waiting for the client, ${AMENDMENT_ANSWER_DAYS} days at most), \`declined\`, \`expired\` (no answer in time) or \`cancelled\` (the delegation ended first). Declined, expired and cancelled amendments changed nothing`,
    }),
    change: z.object({
      addRoles: z.array(RoleSchema),
      removeRoles: z.array(RoleSchema),
      extendDays: z.number().int().nullable(),
      autoExtend: z.boolean().nullable(),
    }),
    before: TermsSchema.openapi({ description: 'The terms before (as they were when applied, once applied)' }),
    after: TermsSchema.openapi({ description: 'The terms after (as applied, once applied)' }),
    requestedBy: z.string().openapi({ description: 'The partner user who proposed it' }),
    createdAt: z.string().datetime(),
    expiresAt: z
      .string()
      .datetime()
      .nullable()
      .openapi({ description: 'Until when the client may answer (additions)' }),
    answeredAt: z.string().datetime().nullable(),
    answeredBy: z.string().nullable().openapi({ description: "The client's global admin who accepted or declined" }),
  })
  .openapi('Amendment');
