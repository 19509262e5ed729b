import { z } from '@hono/zod-openapi';
import { plainText } from '../../../core/text.ts';
import { DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, tokenScopes, tokenScopeWords } from '../../../core/token-scopes.ts';

export const TokenScopeSchema = z.enum(tokenScopes).openapi('TokenScope', {
  description: `What a token may be used for:\n${tokenScopes.map((s) => `- \`${s}\`: ${tokenScopeWords[s]}`).join('\n')}`,
});

export const CreateTokenBody = z
  .object({
    name: plainText(100).openapi({ description: 'What the token is for', example: 'Ticketing integration' }),
    scopes: z
      .array(TokenScopeSchema)
      .min(1)
      .max(tokenScopes.length)
      .refine((scopes) => new Set(scopes).size === scopes.length, 'must not repeat a scope'),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_DAYS)
      .default(DEFAULT_TOKEN_DAYS)
      .openapi({ description: `Days until it expires, 1–${MAX_TOKEN_DAYS} (default ${DEFAULT_TOKEN_DAYS})` }),
  })
  .strict()
  .openapi('CreateToken');

export const TokenSchema = z
  .object({
    id: z.string().openapi({ example: 'tok_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e' }),
    name: z.string(),
    scopes: z.array(TokenScopeSchema),
    createdAt: z.string(),
    expiresAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: 'Null until first used; exact to the minute' }),
    expired: z.boolean(),
    holder: z.object({ userId: z.string(), email: z.string() }),
  })
  .openapi('Token');

export const CreatedTokenSchema = TokenSchema.extend({
  token: z.string().openapi({ description: 'The secret: shown here once, never again' }),
}).openapi('CreatedToken');
