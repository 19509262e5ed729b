import type { Db, Tx } from '../db/client.ts';
import { untilDone } from './retry.ts';

/**
 * Writes that may share one commit: each runs inside the next transaction of the group,
 * and its promise settles when that transaction has committed. While one transaction is
 * being committed, new writes gather for the next, so a busy process pays one commit for
 * many writes — the send pipeline's outcomes and "in doubt" marks (lib/mailer.ts) — and an
 * idle one commits at once.
 *
 * A transaction that fails is run again, whole, until it commits (the writes must be
 * guarded updates that can run twice): a write handed to the group is never dropped,
 * and writes commit in the order they were handed over.
 */
export interface CommitGroup {
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Transactions committed so far. */
  readonly commits: number;
}

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
}

export function createCommitGroup(db: Db, onError: (error: unknown) => void = () => {}): CommitGroup {
  let pending: Pending[] = [];
  let flushing = false;
  let commits = 0;
  const flush = async () => {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const results = await untilDone(
        () =>
          db.transaction(async (tx) => {
            const out: unknown[] = [];
            for (const entry of batch) out.push(await entry.fn(tx));
            return out;
          }),
        onError,
      );
      commits++;
      batch.forEach((entry, i) => {
        entry.resolve(results[i]);
      });
    }
    flushing = false;
  };
  return {
    write<T>(fn: (tx: Tx) => Promise<T>) {
      return new Promise<T>((resolve) => {
        pending.push({ fn, resolve: resolve as (value: unknown) => void });
        if (flushing) return;
        flushing = true;
        // After the current turn of the event loop: what it hands over (an outcome, then
        // the next message's mark, say) shares the commit.
        setImmediate(() => void flush());
      });
    },
    get commits() {
      return commits;
    },
  };
}

const groups = new WeakMap<Db, CommitGroup>();

/** The one commit group of this process for `db`. */
export function commitGroupOf(db: Db, onError?: (error: unknown) => void): CommitGroup {
  let group = groups.get(db);
  if (!group) {
    group = createCommitGroup(db, onError);
    groups.set(db, group);
  }
  return group;
}
