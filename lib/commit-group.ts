import type { Db, Tx } from '../db/client.ts';
import { untilDone } from './retry.ts';

/**
 * Writes that may share one commit: each runs inside the next transaction of the group,
 * and its promise settles when that transaction has committed. While one transaction is
 * being committed, new writes gather for the next, so a busy process pays one commit for
 * many writes — the send pipeline's outcomes and "in doubt" marks (lib/mailer.ts) — and an
 * idle one commits at once.
 *
 * A write of a {@link WriteKind} joins the others of its kind in the same transaction as
 * one statement (`run` gets them all): a commit of 20 outcomes and 20 marks is two
 * statements, not forty round trips. Other writes run one by one, in the order handed over.
 *
 * A transaction that fails is run again, whole, until it commits (the writes must be
 * guarded updates that can run twice): a write handed to the group is never dropped,
 * and writes commit in the order they were handed over — within one commit, the kinds
 * run in the order their first write came (writes sharing a commit touch different rows).
 */
export interface CommitGroup {
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** One `item` for `kind`, written with the others of its kind in one statement. */
  writeOf<I, R>(kind: WriteKind<I, R>, item: I): Promise<R>;
  /** Transactions committed so far. */
  readonly commits: number;
}

/** Writes that one statement can do for many: `run` answers one result per item, in order. */
export interface WriteKind<I, R> {
  readonly name: string;
  run(tx: Tx, items: I[]): Promise<R[]>;
}

type Pending =
  | { fn: (tx: Tx) => Promise<unknown>; resolve: (value: unknown) => void }
  | { kind: WriteKind<unknown, unknown>; item: unknown; resolve: (value: unknown) => void };

/** Runs one batch in `tx`: each kind once, the plain writes one by one; results by entry. */
async function runBatch(tx: Tx, batch: Pending[]): Promise<unknown[]> {
  const out = new Array<unknown>(batch.length);
  const kinds = new Map<WriteKind<unknown, unknown>, number[]>();
  const steps: (number | WriteKind<unknown, unknown>)[] = [];
  batch.forEach((entry, i) => {
    if ('fn' in entry) {
      steps.push(i);
      return;
    }
    const at = kinds.get(entry.kind);
    if (at) at.push(i);
    else {
      kinds.set(entry.kind, [i]);
      steps.push(entry.kind);
    }
  });
  for (const step of steps) {
    if (typeof step === 'number') {
      out[step] = await (batch[step] as Extract<Pending, { fn: unknown }>).fn(tx);
      continue;
    }
    const at = kinds.get(step) as number[];
    const results = await step.run(
      tx,
      at.map((i) => (batch[i] as Extract<Pending, { kind: unknown }>).item),
    );
    if (results.length !== at.length)
      throw new Error(`${step.name}: ${results.length} results for ${at.length} writes`);
    at.forEach((i, k) => {
      out[i] = results[k];
    });
  }
  return out;
}

export function createCommitGroup(db: Db, onError: (error: unknown) => void = () => {}): CommitGroup {
  let pending: Pending[] = [];
  let flushing = false;
  let commits = 0;
  const flush = async () => {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const results = await untilDone(() => db.transaction((tx) => runBatch(tx, batch)), onError);
      commits++;
      batch.forEach((entry, i) => {
        entry.resolve(results[i]);
      });
    }
    flushing = false;
  };
  const enqueue = <T>(entry: (resolve: (value: unknown) => void) => Pending) =>
    new Promise<T>((resolve) => {
      pending.push(entry(resolve as (value: unknown) => void));
      if (flushing) return;
      flushing = true;
      // After the current turn of the event loop: what it hands over (an outcome, then
      // the next message's mark, say) shares the commit.
      setImmediate(() => void flush());
    });
  return {
    write: <T>(fn: (tx: Tx) => Promise<T>) => enqueue<T>((resolve) => ({ fn, resolve })),
    writeOf: <I, R>(kind: WriteKind<I, R>, item: I) =>
      enqueue<R>((resolve) => ({ kind: kind as WriteKind<unknown, unknown>, item, resolve })),
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
