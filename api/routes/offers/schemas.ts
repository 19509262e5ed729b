import { z } from '@hono/zod-openapi';
import { accessLevels } from '../../../core/access.ts';
import {
  DEFAULT_DURATION_DAYS,
  DEFAULT_OFFER_EXPIRY_DAYS,
  MAX_DURATION_DAYS,
  MAX_OFFER_EXPIRY_DAYS,
} from '../../../core/offer-rules.ts';
import { roles } from '../../../core/roles.ts';
import { plainText } from '../../../core/text.ts';
import { RoleSchema } from '../../schemas.ts';

const RoleRequestSchema = z
  .object({
    role: RoleSchema,
    optional: z.boolean().default(false).openapi({ description: 'The client may leave it out when accepting' }),
  })
  .strict()
  .openapi('RoleRequest');

export const CreateOfferBody = z
  .object({
    name: plainText(200).openapi({ example: 'Managed IT 2027' }),
    access: z.enum(accessLevels).optional().openapi({
      description:
        "A preset, instead of `roles`: `full` = `global_admin` (the same rights as the client's global administrators), `limited` = `password_admin` (reset passwords of non-admin users).",
    }),
    roles: z.array(RoleRequestSchema).min(1).max(roles.length).optional().openapi({
      description:
        'The roles asked for, instead of `access`; at least one required. The client may untick optional ones when accepting.',
    }),
    durationDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_DURATION_DAYS)
      .default(DEFAULT_DURATION_DAYS)
      .openapi({ description: 'How long a delegation lasts once accepted' }),
    autoExtend: z
      .boolean()
      .default(false)
      .openapi({ description: 'Renew by 180 days at the end. Not allowed with `full` (422).' }),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_OFFER_EXPIRY_DAYS)
      .default(DEFAULT_OFFER_EXPIRY_DAYS)
      .openapi({ description: 'How long the offer can be accepted' }),
  })
  .strict()
  .openapi('CreateOffer');

export const OfferSchema = z
  .object({
    id: z.string().openapi({ example: 'ofr_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    name: z.string(),
    roles: z.array(z.object({ role: RoleSchema, optional: z.boolean() })),
    access: z
      .enum(accessLevels)
      .optional()
      .openapi({ description: 'The preset the roles are exactly, when they are one and nothing is optional' }),
    durationDays: z.number().int(),
    autoExtend: z.boolean(),
    expiresAt: z.string().datetime(),
    revokedAt: z.string().datetime().nullable(),
    createdAt: z.string().datetime(),
  })
  .openapi('Offer');

export const CreatedOfferSchema = OfferSchema.extend({
  url: z.string().url().openapi({
    description: 'The reusable offer link. Shown only in this response; any number of clients may accept it.',
  }),
}).openapi('CreatedOffer');
