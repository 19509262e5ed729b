import { z } from '@hono/zod-openapi';
import { accessLevels } from '../../../core/access.ts';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { RoleSchema } from '../../schemas.ts';

const timestamp = z.string().datetime().nullable();

export const DelegationSchema = z
  .object({
    id: z.string().openapi({ example: 'dlg_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    state: z.enum(delegationStates),
    offerId: z.string(),
    campaignId: z.string().nullable(),
    clientOrgId: z.string().nullable().openapi({ description: 'Known once a client organization accepts' }),
    recipient: z.object({ email: z.string().nullable(), name: z.string().nullable(), company: z.string().nullable() }),
    roles: z.array(RoleSchema).openapi({ description: 'The roles granted (asked for, until the client answers)' }),
    access: z
      .enum(accessLevels)
      .optional()
      .openapi({ description: 'The preset the roles are exactly, when they are one' }),
    durationDays: z.number().int(),
    autoExtend: z.boolean(),
    sendAttempts: z.number().int(),
    smtpReply: z.string().nullable(),
    failureReason: z.string().nullable(),
    offeredAt: timestamp,
    acceptedAt: timestamp,
    activatedAt: timestamp,
    endsAt: timestamp,
    endedAt: timestamp,
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi('Delegation');

export const DelegationEventSchema = z
  .object({
    event: z.string().openapi({ example: 'send_succeeded' }),
    fromState: z.enum(delegationStates).nullable(),
    toState: z.enum(delegationStates),
    actor: z.object({ type: z.enum(['system', 'partner_user', 'client_user']), id: z.string().nullable() }),
    detail: z.record(z.string(), z.unknown()).nullable(),
    at: z.string().datetime(),
  })
  .openapi('DelegationEvent');
