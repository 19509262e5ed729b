import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Logger } from './logger.ts';

/**
 * This worker process as the leases it holds name it: a row in `worker_processes` whose
 * `beat_at` it writes every third of `staleSeconds`. Another process finding a lease whose
 * holder has not beaten for `staleSeconds` takes it over at once — a crash costs seconds,
 * not the lease (docs/adr/0027). A holder that merely lost the database for that long is
 * overtaken too: every write of a send is fenced by its attempt number, so nothing is sent
 * twice before its mark — a message already marked (its data perhaps ended) counts as in
 * doubt for the new claim, and is resent at most once (docs/adr/0005).
 */
export interface WorkerProcess {
  readonly id: string;
  /** Stops beating and removes the row: whatever the process still held is free at once. */
  stop(): Promise<void>;
}

export async function registerWorkerProcess(
  db: Db,
  options: { staleSeconds: number; logger: Logger },
): Promise<WorkerProcess> {
  const id = `${hostname()}.${process.pid}.${randomBytes(6).toString('hex')}`;
  const beat = () =>
    db.execute(sql`
      insert into worker_processes (id, host, pid) values (${id}, ${hostname()}, ${process.pid})
      on conflict (id) do update set beat_at = now()`);
  const beatOrWarn = () =>
    beat().catch((error: unknown) => options.logger.warn({ err: error }, 'could not write this process heartbeat'));
  // Not beating yet (the database away at start) only makes this process's leases look
  // free to others: every write of a send is fenced by its attempt, so nothing goes twice.
  await beatOrWarn();
  const timer = setInterval(
    () => {
      void beatOrWarn();
    },
    Math.max(1000, (options.staleSeconds * 1000) / 3),
  );
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await db.execute(sql`delete from worker_processes where id = ${id}`).catch(() => undefined);
    },
  };
}

/**
 * SQL true when a lease (`until`, `holder`: column names) has ended: never taken; naming no
 * holder (taken by a version before holders) and past its time; or naming a holder that
 * stopped beating — or, as a backstop, half an hour past its time. A live holder's lease
 * does not run out while its messages wait for the pace or the pool. Just after PostgreSQL
 * restarted nobody has beaten yet: holders are not judged until `staleSeconds` after its
 * start, so live processes are not overtaken for the database's outage (docs/adr/0027).
 */
export function leaseEnded(until: string, holder: string, staleSeconds: number) {
  const [u, h] = [sql.raw(until), sql.raw(holder)];
  const stale = sql`make_interval(secs => ${staleSeconds})`;
  return sql`(${u} is null
       or (${h} is null and ${u} < now())
       or (${h} is not null and ${u} < now() - interval '30 minutes')
       or (${h} is not null and pg_postmaster_start_time() < now() - ${stale}
           and not ${holderAlive(h, staleSeconds)}))`;
}

/**
 * SQL true when the lease of `holder` (a column naming a `worker_processes` row) is held
 * by a process still beating.
 */
export function holderAlive(holder: ReturnType<typeof sql.raw>, staleSeconds: number) {
  return sql`exists (select 1 from worker_processes w where w.id = ${holder}
                      and w.beat_at > now() - make_interval(secs => ${staleSeconds}))`;
}
