import { type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import { untilDone } from './retry.ts';

/**
 * Writes that may share one commit: each runs inside the next commit of the group, and its
 * promise settles when that commit is done. While one commit is under way, new writes
 * gather for the next, so a busy process pays one commit for many writes — the send
 * pipeline's outcomes and "in doubt" marks (lib/mailer.ts) — and an idle one commits at once.
 *
 * Writes of a {@link WriteKind} are set-based: every write of every kind in a commit goes
 * into one statement (data-modifying CTEs), so a commit of 20 outcomes and 20 marks is one
 * round trip to PostgreSQL — no BEGIN, no COMMIT — unless a plain write shares it (then
 * one transaction: the statement, then the plain writes one by one).
 *
 * A commit that fails is run again, whole, until it is done (the writes must be guarded
 * updates that can run twice): a write handed to the group is never dropped, and writes
 * commit in the order they were handed over. Writes sharing a commit touch different rows.
 */
export interface CommitGroup {
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** One `item` of `kind`; resolves true when the statement wrote it (its guard held). */
  writeOf<I>(kind: WriteKind<I>, item: I): Promise<boolean>;
  /** Commits done so far. */
  readonly commits: number;
}

/**
 * A write many items can share: `ctes` gives the data-modifying CTEs that write them all,
 * named through `name` (unique per commit); the one named `name('done')` returns the
 * `key` (text) of each item it wrote.
 */
export interface WriteKind<I> {
  readonly name: string;
  ctes(items: I[], name: (part: string) => SQL): SQL;
  key(item: I): string;
}

type Pending =
  | { fn: (tx: Tx) => Promise<unknown>; resolve: (value: unknown) => void }
  | { kind: WriteKind<unknown>; item: unknown; resolve: (value: unknown) => void };
type KindEntry = { item: unknown; index: number };

/** The one statement writing every kind's items: `(kind, key)` for each item written. */
function kindsStatement(kinds: Map<WriteKind<unknown>, KindEntry[]>): SQL {
  const parts: SQL[] = [];
  const selects: SQL[] = [];
  let k = 0;
  for (const [kind, entries] of kinds) {
    const n = k++;
    const name = (part: string) => sql.raw(`w${n}_${part}`);
    parts.push(
      kind.ctes(
        entries.map((e) => e.item),
        name,
      ),
    );
    selects.push(sql`select ${n}::int as kind, key::text as key from ${name('done')}`);
  }
  return sql`with ${sql.join(parts, sql`, `)} ${sql.join(selects, sql` union all `)}`;
}

/** Runs one batch: the kinds' statement and the plain writes; results by entry. */
async function runBatch(db: Db, batch: Pending[]): Promise<unknown[]> {
  const kinds = new Map<WriteKind<unknown>, KindEntry[]>();
  const plain: number[] = [];
  batch.forEach((entry, i) => {
    if ('fn' in entry) plain.push(i);
    else {
      const entries = kinds.get(entry.kind);
      if (entries) entries.push({ item: entry.item, index: i });
      else kinds.set(entry.kind, [{ item: entry.item, index: i }]);
    }
  });
  const out = new Array<unknown>(batch.length);
  const writeKinds = async (runner: Db | Tx) => {
    if (kinds.size === 0) return;
    const rows = await runner.execute<{ kind: number; key: string }>(kindsStatement(kinds));
    const written = new Set(rows.map((r) => `${r.kind}:${r.key}`));
    let k = 0;
    for (const [kind, entries] of kinds) {
      const n = k++;
      for (const entry of entries) out[entry.index] = written.has(`${n}:${kind.key(entry.item)}`);
    }
  };
  if (plain.length === 0) {
    await writeKinds(db); // one statement: atomic by itself
    return out;
  }
  await db.transaction(async (tx) => {
    await writeKinds(tx);
    for (const i of plain) out[i] = await (batch[i] as Extract<Pending, { fn: unknown }>).fn(tx);
  });
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
      const results = await untilDone(() => runBatch(db, batch), onError);
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
    writeOf: <I>(kind: WriteKind<I>, item: I) =>
      enqueue<boolean>((resolve) => ({ kind: kind as WriteKind<unknown>, item, resolve })),
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
