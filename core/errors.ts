/**
 * The closed set of error codes Mandate reports. Each maps once to an HTTP status
 * (api/problem.ts) and once to "retry or not" (workers). Codes are part of the API
 * contract: clients branch on them, so they never change meaning.
 */
export const errorCodes = {
  VALIDATION_FAILED: { status: 422, retryable: false, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, retryable: false, title: 'The body is not valid JSON' },
  MALFORMED_CSV: { status: 400, retryable: false, title: 'The body is not valid CSV' },
  MALFORMED_BODY: { status: 400, retryable: false, title: 'The body could not be read' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, title: 'Unsupported content type' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, title: 'The body is too large' },
  TOO_MANY_RECIPIENTS: { status: 422, retryable: false, title: 'Too many recipients in one campaign' },
  NO_VALID_RECIPIENTS: {
    status: 422,
    retryable: false,
    title: 'No recipient of this campaign is valid: nothing was created',
  },
  UNAUTHENTICATED: { status: 401, retryable: false, title: 'Missing or invalid credentials' },
  NOT_AUTHORIZED: { status: 403, retryable: false, title: 'Not allowed' },
  INSUFFICIENT_SCOPE: { status: 403, retryable: false, title: "This API token's scopes do not allow this" },
  SECOND_FACTOR_REQUIRED: {
    status: 403,
    retryable: false,
    title: 'Two-factor sign-in is required: set it up on the account page, then try again',
  },
  CSRF_FAILED: { status: 403, retryable: false, title: 'The form expired or did not come from this site' },
  OFFER_LINK_GONE: { status: 410, retryable: false, title: 'This offer link can no longer be used' },
  INVITATION_GONE: { status: 410, retryable: false, title: 'This invitation can no longer be used' },
  NOT_FOUND: { status: 404, retryable: false, title: 'Not found' },
  WEBHOOK_URL_REFUSED: { status: 422, retryable: false, title: 'This webhook URL cannot be used' },
  OFFER_REVOKED: { status: 409, retryable: false, title: 'The offer has been revoked' },
  OFFER_EXPIRED: { status: 409, retryable: false, title: 'The offer has expired' },
  INVALID_TRANSITION: { status: 409, retryable: false, title: 'Not possible in the current state' },
  CONFLICT: { status: 409, retryable: false, title: 'Conflicts with the current state' },
  LAST_OWNER: {
    status: 409,
    retryable: false,
    title: 'A partner keeps at least one owner: make someone else an owner first',
  },
  AMENDMENT_REQUIRED: {
    status: 409,
    retryable: false,
    title: "This would give the partner more than the client agreed to: propose an amendment for the client's yes",
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    retryable: false,
    title: 'This Idempotency-Key was used for a different request',
  },
  IDEMPOTENT_RESPONSE_LOST: {
    status: 409,
    retryable: false,
    title: 'The first request with this Idempotency-Key took effect, but its answer was lost: do not send it again',
  },
  RATE_LIMITED: { status: 429, retryable: true, title: 'Too many requests' },
  DAILY_SEND_LIMIT_EXCEEDED: {
    status: 429,
    retryable: false,
    title: "This campaign would exceed the partner's daily send limit",
  },
  DATABASE_TIMEOUT: {
    status: 503,
    retryable: true,
    title: 'The database did not answer in time (a query or a lock took too long); try again',
  },
  DEPENDENCY_UNAVAILABLE: { status: 503, retryable: true, title: 'A service Mandate depends on is unavailable' },
  DEADLINE_EXCEEDED: {
    status: 503,
    retryable: true,
    title:
      'The request did not finish in time and may or may not have taken effect: retry it with the same Idempotency-Key',
  },
  INTERNAL: { status: 500, retryable: true, title: 'Internal error' },
} as const satisfies Record<string, { status: number; retryable: boolean; title: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** One problem with one field of the input, as reported to API clients. */
export interface FieldIssue {
  /** Where the problem is: a JSON pointer-like path such as `recipients/3/email`. */
  path: string;
  message: string;
}

/**
 * An expected failure with a stable code. Thrown by domain functions; the API maps it
 * to problem+json and the workers to retry / no retry.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    extra: { issues?: FieldIssue[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message ?? errorCodes[code].title, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.issues = extra.issues;
    this.details = extra.details;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get retryable(): boolean {
    return errorCodes[this.code].retryable;
  }
}

export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}
