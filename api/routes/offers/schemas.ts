import { z } from '@hono/zod-openapi';
import { accessLevels } from '../../../core/access.ts';
import {
  DEFAULT_DURATION_DAYS,
  DEFAULT_OFFER_EXPIRY_DAYS,
  MAX_DURATION_DAYS,
  MAX_OFFER_EXPIRY_DAYS,
} from '../../../core/offer-rules.ts';
import { plainText } from '../../../core/text.ts';

export const CreateOfferBody = z
  .object({
    name: plainText(200).openapi({ example: 'Managed IT 2027' }),
    access: z.enum(accessLevels).openapi({
      description:
        "`full`: the same rights as the client's global administrators. `limited`: reset passwords of non-admin users.",
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
    access: z.enum(accessLevels),
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
