import type { Db } from './client.ts';

/**
 * A statement prepared once per database handle, on first use: `build` returns a
 * drizzle query ending in `.prepare(name)` whose parameters are `sql.placeholder(…)`.
 *
 * Why, on hot paths: drizzle builds the SQL text of an ordinary query anew on every call
 * (measurably costly per request), and asks postgres.js for an unnamed statement, which
 * postgres.js sends in two round trips when it has parameters (Parse + Describe, then
 * Bind + Execute). A prepared query is built once, and after its first use on a
 * connection costs one round trip (Bind + Execute of the server-side statement).
 * Keep it to fixed-shape queries: each distinct SQL text stays prepared on every pooled
 * connection.
 */
export function preparedPerDb<T>(build: (db: Db) => T): (db: Db) => T {
  const statements = new WeakMap<Db, T>();
  return (db) => {
    let statement = statements.get(db);
    if (!statement) {
      statement = build(db);
      statements.set(db, statement);
    }
    return statement;
  };
}
