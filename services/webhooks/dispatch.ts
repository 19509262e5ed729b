import { sql } from 'drizzle-orm';
import type { Sql } from '../../db/client.ts';
import type { Deps } from '../../lib/deps.ts';
import { WEBHOOK_CHANNEL } from './record.ts';

/** Deliveries handed over per statement. */
const BATCH = 500;
/** How often a dispatcher looks without being woken: a missed notification waits this long at most. */
const POLL_MS = 5_000;

/**
 * Hands new webhook deliveries to the queue: claims those not yet handed over (`skip
 * locked`: of several worker processes woken by the same commit, each takes different rows)
 * and enqueues their jobs. A claim whose enqueue failed is found by the reconciler, which
 * enqueues every due delivery without a job.
 */
export async function dispatchWebhooks(deps: Pick<Deps, 'db' | 'queues' | 'logger'>): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await deps.db.execute<{ id: string }>(sql`
      update webhook_deliveries set dispatched = true
      where id in (select id from webhook_deliveries where state = 'pending' and not dispatched
                   order by created_at limit ${BATCH} for update skip locked)
      returning id`);
    if (rows.length === 0) return total;
    total += rows.length;
    await deps.queues.enqueueAfterCommit(
      'deliver-webhook',
      rows.map((r) => ({ deliveryId: r.id })),
      { deliveries: rows.length },
    );
    if (rows.length < BATCH) return total;
  }
}

export interface WebhookDispatcher {
  close(): Promise<void>;
}

/**
 * Runs {@link dispatchWebhooks} whenever a commit that wrote deliveries notifies
 * WEBHOOK_CHANNEL (PostgreSQL sends it only at commit), and every POLL_MS besides. Runs are
 * never concurrent in one process; a wake-up during a run makes one more run.
 */
export async function startWebhookDispatcher(
  deps: Pick<Deps, 'db' | 'queues' | 'logger'> & { sql: Sql },
): Promise<WebhookDispatcher> {
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const wake = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await dispatchWebhooks(deps).catch((error: unknown) =>
          deps.logger.warn({ err: error }, 'could not hand webhook deliveries to the queue; will try again'),
        );
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
  };
  const listening = await deps.sql.listen(WEBHOOK_CHANNEL, wake, wake).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'could not listen for new webhook deliveries; polling only');
    return null;
  });
  const timer = setInterval(wake, POLL_MS);
  timer.unref();
  wake();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      await listening?.unlisten().catch(() => undefined);
      await running;
    },
  };
}
