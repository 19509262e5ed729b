import { sql } from 'drizzle-orm';
import type { Deps } from '../../lib/deps.ts';
import { withTimeout } from '../../lib/retry.ts';

export interface DependencyStatus {
  ok: boolean;
  /** Round trip in ms when reachable; the error otherwise. */
  latencyMs?: number;
  error?: string;
}

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  try {
    await withTimeout(timeoutMs, check);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Whether PostgreSQL and the queue backend (Redis, or PostgreSQL itself) answer, each
 * within `timeoutMs`. The answer is public, so it says only ok or not and how fast;
 * what went wrong goes to the log.
 */
export async function checkReadiness(deps: Pick<Deps, 'db' | 'queues' | 'logger'>, timeoutMs = 2000) {
  const [postgres, queue] = await Promise.all([
    probe(() => deps.db.execute(sql`select 1`), timeoutMs),
    probe(() => deps.queues.transport.ping(), timeoutMs),
  ]);
  const checks = deps.queues.transport.kind === 'redis' ? { postgres, redis: queue } : { postgres, queue };
  for (const [name, status] of Object.entries(checks)) {
    if (!status.ok) deps.logger.warn({ dependency: name, error: status.error }, 'readiness check failed');
    delete status.error;
  }
  return { ok: postgres.ok && queue.ok, queueBackend: deps.queues.transport.kind, checks };
}
