import { sql } from 'drizzle-orm';
import type { Deps } from '../lib/deps.ts';

export interface DependencyStatus {
  ok: boolean;
  /** Round trip in ms when reachable; the error otherwise. */
  latencyMs?: number;
  error?: string;
}

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Whether PostgreSQL and Redis answer, each within `timeoutMs`. */
export async function checkReadiness(deps: Pick<Deps, 'db' | 'redis'>, timeoutMs = 2000) {
  const [postgres, redis] = await Promise.all([
    probe(() => deps.db.execute(sql`select 1`), timeoutMs),
    probe(() => deps.redis.ping(), timeoutMs),
  ]);
  return { ok: postgres.ok && redis.ok, checks: { postgres, redis } };
}
