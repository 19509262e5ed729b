import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';

/**
 * Waits for `n` messages' share of a send rate shared by every worker process: one
 * statement moves the shared moment the next message may start (`send_pace.next_at`) on by
 * n / perSecond seconds, and the caller waits until the start of its share. One call per
 * group of messages, not per message, and no counter per second to expire: PostgreSQL's
 * clock decides, so every process paces alike whichever queue backend runs the jobs.
 * `perSecond` 0: no limit.
 */
export async function paceSends(db: Db, perSecond: number, n: number): Promise<void> {
  if (perSecond <= 0 || n <= 0) return;
  const share = sql`make_interval(secs => ${n / perSecond})`;
  const [row] = await db.execute<{ wait_ms: number }>(sql`
    insert into send_pace as p (id, next_at) values (1, clock_timestamp() + ${share})
    on conflict (id) do update set next_at = greatest(p.next_at, clock_timestamp()) + ${share}
    returning (extract(epoch from (p.next_at - ${share} - clock_timestamp())) * 1000)::float8 as wait_ms`);
  const wait = Number(row?.wait_ms ?? 0);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
