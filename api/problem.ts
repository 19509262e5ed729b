import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { AppError, type ErrorCode, errorCodes, type FieldIssue } from '../core/errors.ts';
import { databaseTimeoutKind, databaseUnreachableKind, pgErrorCode } from '../db/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { AppEnv } from './env.ts';

/** An RFC 9457 problem document, with Mandate's stable `code` and the field issues. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  requestId?: string | undefined;
  errors?: FieldIssue[] | undefined;
}

export function problemType(code: ErrorCode): string {
  return `/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Turns zod's issues into `{ path, message }` pairs with slash-separated paths. */
export function fieldIssues(error: ZodError): FieldIssue[] {
  return error.issues.slice(0, 50).map((issue) => ({
    path: issue.path.map(String).join('/') || '(body)',
    message: issue.message,
  }));
}

/** character_not_in_repertoire, untranslatable_character, invalid_text_representation. */
const invalidInputCodes = new Set(['22021', '22P05', '22P02']);

/** Maps anything thrown inside a request to the AppError it stands for. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    switch (error.status) {
      case 400:
        return /json/i.test(error.message)
          ? new AppError('MALFORMED_JSON', 'The body could not be parsed as JSON')
          : new AppError('MALFORMED_BODY', 'The body could not be read');
      case 413:
        return new AppError('PAYLOAD_TOO_LARGE');
      case 415:
        return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json (or text/csv where documented)');
      case 401:
        return new AppError('UNAUTHENTICATED');
      case 404:
        return new AppError('NOT_FOUND');
      default:
        return new AppError('INTERNAL', undefined, { cause: error });
    }
  }
  // A pool timeout (DATABASE_API_*_TIMEOUT_MS): a stuck lock or query elsewhere, not this
  // request's fault — the same request may well succeed in a moment.
  const timeout = databaseTimeoutKind(error);
  if (timeout) {
    const detail =
      timeout === 'lock'
        ? 'Something this request needs was locked by another for too long; try again shortly'
        : 'A database query of this request took too long; try again shortly';
    return new AppError('DATABASE_TIMEOUT', detail, { cause: error, details: { retryAfterSeconds: 1 } });
  }
  // PostgreSQL out of reach (DATABASE_API_REPLY_TIMEOUT_MS, DATABASE_CONNECT_TIMEOUT_MS, or
  // refused). Worth a retry: a write cut off while its COMMIT was on the way may have
  // committed, which an Idempotency-Key settles (ADR 19).
  const unreachable = databaseUnreachableKind(error);
  if (unreachable) {
    return unreachable === 'connection-lost'
      ? new AppError('DEPENDENCY_UNAVAILABLE', 'The database is not reachable; try again shortly', {
          cause: error,
          details: { retryAfterSeconds: 5 },
        })
      : new AppError('DATABASE_TIMEOUT', 'The database did not answer in time; try again shortly', {
          cause: error,
          details: { retryAfterSeconds: 5 },
        });
  }
  // A value PostgreSQL cannot store (a NUL byte, an invalid escape): input that slipped
  // past validation is still the client's input, not our failure.
  const pgCode = pgErrorCode(error);
  if (pgCode && invalidInputCodes.has(pgCode)) {
    return new AppError('VALIDATION_FAILED', 'The request contains characters that cannot be stored', { cause: error });
  }
  return new AppError('INTERNAL', 'Something went wrong on our side; the request id helps us find it', {
    cause: error,
  });
}

/**
 * The log line of a request that ended in `appError` (from `error`), if it deserves one:
 * our own faults and database timeouts. `route` is the route pattern, never the path
 * (paths can carry offer tokens).
 */
export function logRequestError(logger: Logger, appError: AppError, error: unknown, route: string): void {
  if (appError.code === 'INTERNAL') logger.error({ err: error, route }, 'unhandled error');
  const unreachable = databaseUnreachableKind(error);
  if (unreachable) {
    logger.warn(
      { err: error, route, code: appError.code, unreachable },
      'request stopped: the database is out of reach',
    );
    return;
  }
  if (appError.code === 'DATABASE_TIMEOUT') {
    const timeout = databaseTimeoutKind(error);
    logger.warn(
      { err: error, route, code: appError.code, timeout },
      `request stopped by the database's ${timeout} timeout`,
    );
  }
}

export function problemResponse(c: Context<AppEnv>, error: AppError): Response {
  const body: Problem = {
    // Extension members first, so they can never overwrite the standard ones.
    ...(error.details ?? {}),
    type: problemType(error.code),
    title: errorCodes[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance: c.req.path,
    requestId: c.get('requestId'),
    ...(error.issues ? { errors: error.issues } : {}),
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  // A new Response keeps none of the context's headers: the id a client quotes goes again.
  const requestId = c.get('requestId');
  if (requestId) headers['x-request-id'] = requestId;
  if (error.code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
  return new Response(JSON.stringify(body), { status: error.status, headers });
}
