import type { MiddlewareHandler } from 'hono';
import { AppError } from '../core/errors.ts';
import type { AppEnv } from './env.ts';
import { problemResponse } from './problem.ts';

/**
 * Answers 503 DEADLINE_EXCEEDED when a request has not produced its response within `ms`
 * (REQUEST_TIMEOUT_MS; 0: never). The last line of defence: PostgreSQL's and Redis's own
 * bounds (db/reply-timeout.ts, lib/redis.ts) are shorter and end a request with a code
 * that names the dependency. What the request was doing is left to finish or fail on its
 * own — it cannot be stopped from here without leaving a transaction half done — so the
 * answer says its outcome is unknown; an Idempotency-Key makes the retry safe (ADR 19).
 */
export function requestDeadline(ms: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (ms <= 0) return next();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), ms);
    });
    const work = next().then(() => 'answered' as const);
    try {
      if ((await Promise.race([work, expired])) === 'answered') return;
    } finally {
      clearTimeout(timer);
    }
    const logger = c.var.logger;
    work.then(
      () => logger.warn({ status: c.res.status }, 'request finished after its deadline had been answered'),
      (error: unknown) => logger.warn({ err: error }, 'request failed after its deadline had been answered'),
    );
    logger.warn({ deadlineMs: ms }, 'request passed its deadline: answered 503');
    return problemResponse(c, new AppError('DEADLINE_EXCEEDED', undefined, { details: { retryAfterSeconds: 5 } }));
  };
}
