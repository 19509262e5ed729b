import { z } from '@hono/zod-openapi';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { MAX_RECIPIENTS } from '../../../core/recipients.ts';
import { plainText } from '../../../core/text.ts';

const optionalText = z.string().max(1000).nullable().optional();

export const RecipientInput = z
  .object({
    email: z.string().max(1000).openapi({ example: 'admin@contoso.example' }),
    name: optionalText.openapi({ example: 'Alex Admin' }),
    company: optionalText.openapi({ example: 'Contoso' }),
  })
  .strict()
  .openapi('RecipientInput');

export const CreateCampaignBody = z
  .object({
    offerId: z.string().min(1).max(100),
    name: plainText(200).optional(),
    // Items are checked by parseRecipientItems in one pass (see there why not by zod);
    // the document still describes them.
    recipients: z
      .array(z.unknown())
      .min(1)
      .openapi({
        description: `1 to ${MAX_RECIPIENTS.toLocaleString('en')} recipients`,
        items: { $ref: '#/components/schemas/RecipientInput' },
      }),
  })
  .strict()
  .openapi('CreateCampaign');

export const CreateCampaignCsvQuery = z.object({
  offerId: z.string().min(1).max(100).optional().openapi({ description: 'Required with a text/csv body' }),
  name: plainText(200).optional().openapi({ description: 'Campaign name, with a text/csv body' }),
});

export const CreatedCampaignSchema = z
  .object({
    id: z.string().openapi({ example: 'cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    total: z.number().int().openapi({ description: 'Recipients accepted for sending' }),
    rejected: z
      .array(
        z.object({
          row: z
            .number()
            .int()
            .openapi({ description: '1-based position in the list (CSV: data rows, header not counted)' }),
          email: z.string(),
          reason: z.string(),
        }),
      )
      .openapi({ description: 'Invalid addresses and duplicates: reported, not sent' }),
  })
  .openapi('CreatedCampaign');

export const StateCountsSchema = z
  .object(
    Object.fromEntries(delegationStates.map((s) => [s, z.number().int()])) as Record<
      (typeof delegationStates)[number],
      z.ZodNumber
    >,
  )
  .openapi('StateCounts');

export const CampaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    offerId: z.string(),
    total: z.number().int(),
    rejectedCount: z.number().int(),
    counts: StateCountsSchema,
    done: z.boolean().openapi({ description: 'True once no recipient is waiting for its email' }),
    createdAt: z.string().datetime(),
  })
  .openapi('Campaign');

export const CampaignSummarySchema = z
  .object({ id: z.string(), name: z.string(), offerId: z.string(), total: z.number().int(), createdAt: z.string() })
  .openapi('CampaignSummary');

export const RecipientSchema = z
  .object({
    delegationId: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    company: z.string().nullable(),
    state: z.enum(delegationStates),
    sendAttempts: z.number().int(),
    smtpReply: z.string().nullable().openapi({ description: "The mail server's last reply when sending failed" }),
    failureReason: z.string().nullable(),
    offeredAt: z.string().nullable(),
    acceptedAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('Recipient');
