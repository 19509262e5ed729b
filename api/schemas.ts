import { z } from '@hono/zod-openapi';
import { errorCodes } from '../core/errors.ts';
import { roleCatalogue, roles } from '../core/roles.ts';
import type { TokenScope } from '../core/token-scopes.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../services/shared/pagination.ts';

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/validation-failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(errorCodes) as [keyof typeof errorCodes, ...(keyof typeof errorCodes)[]]),
    instance: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const statusDescriptions: Record<number, string> = {
  400: 'Malformed body (`MALFORMED_JSON`, `MALFORMED_CSV`)',
  401: 'Missing or invalid bearer token (`UNAUTHENTICATED`)',
  403: 'Your staff access does not allow this (`NOT_AUTHORIZED`), or the token lacks the scope (`INSUFFICIENT_SCOPE`)',
  404: 'No such resource for your partner (`NOT_FOUND`)',
  409: 'Not possible in the current state',
  413: 'Body too large (`PAYLOAD_TOO_LARGE`)',
  415: 'Unsupported content type (`UNSUPPORTED_MEDIA_TYPE`)',
  422: 'Invalid input (`VALIDATION_FAILED`)',
  429: "Too many requests (`RATE_LIMITED`), or a campaign over the partner's daily send limit (`DAILY_SEND_LIMIT_EXCEEDED`); `Retry-After` says when to try again",
};

/** Problem+json responses for the given statuses, for a route's `responses`. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: statusDescriptions[status] ?? 'Error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

export const PageQuery = z.object({
  cursor: z.string().max(200).optional().openapi({ description: 'The `nextCursor` of the previous page' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .openapi({ description: `Page size, 1–${MAX_PAGE_SIZE}` }),
});

export const IdParam = (name: string, example: string) =>
  z
    .object({
      id: z
        .string()
        .min(1)
        .max(100)
        .openapi({ param: { name: 'id', in: 'path' }, example }),
    })
    .openapi(name);

/**
 * A route's `security`: a partner API token holding `scope` (core/token-scopes.ts). The
 * bearer middleware enforces exactly these declarations (api/auth.ts `routeScopes`).
 */
export const needsScope = (scope: TokenScope) => [{ bearer: [scope] }];

/** Any valid token, whatever its scopes: for the routes that judge scopes themselves (/v1/tokens). */
export const anyTokenSecurity = [{ bearer: [] }];

/** The Idempotency-Key header every POST of the partner API accepts (api/idempotency.ts). */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .max(200)
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description:
        'Repeat the request with the same key to get the first response again instead of a second effect (kept 24 hours); the same key with another request → 422 IDEMPOTENCY_KEY_REUSED.',
    }),
});

/** A role of the catalogue (core/roles.ts), each described as clients and staff read it. */
export const RoleSchema = z.enum(roles).openapi('Role', {
  description: `A role of the catalogue:\n${roles.map((r) => `- \`${r}\`: ${roleCatalogue[r].description}`).join('\n')}`,
});
