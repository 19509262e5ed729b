import { sql } from 'drizzle-orm';
import { auditEvents } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';

/** Rows deleted per statement, and statements per pass: a backlog goes over several passes. */
const BATCH = 5000;
const BATCHES_PER_PASS = 20;

/**
 * Deletes audit rows older than AUDIT_RETENTION_DAYS (lib/config.ts), in batches so no
 * statement holds its locks long; called by the reconciler's housekeeping, the only thing
 * that prunes the trail. Returns how many went.
 */
export async function pruneAuditEvents(deps: Pick<Deps, 'db' | 'config'>): Promise<number> {
  const cutoff = sql`now() - make_interval(days => ${deps.config.auditRetentionDays})`;
  let pruned = 0;
  for (let i = 0; i < BATCHES_PER_PASS; i++) {
    const gone = await deps.db.execute(sql`
      delete from ${auditEvents} where id in (
        select id from ${auditEvents} where created_at < ${cutoff} order by id limit ${BATCH})`);
    pruned += gone.count;
    if (gone.count < BATCH) break;
  }
  return pruned;
}
