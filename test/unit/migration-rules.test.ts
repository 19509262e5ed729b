import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationsFolder, NO_TRANSACTION_MARKER } from '../../db/migrate.ts';

/** Tables large enough that building an index on them in a transaction blocks writes for minutes. */
const largeTables = ['audit_events', 'delegations', 'delegation_events', 'operations', 'emails'];
/**
 * The last migration released before ADR 20: those have run everywhere and stay as they
 * are (0025–0027 were written with it, and their audit indexes moved to 0028's concurrent builds).
 */
const LAST_BEFORE_ADR_20 = 24;

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
  entries: { idx: number; tag: string }[];
};
const later = journal.entries
  .filter((e) => e.idx > LAST_BEFORE_ADR_20)
  .map(({ tag }) => ({ tag, text: readFileSync(join(migrationsFolder, `${tag}.sql`), 'utf8') }));
const statements = (text: string) =>
  text
    .split('--> statement-breakpoint')
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);

describe('migrations written since ADR 20', () => {
  it.each(later)('$tag builds indexes on large tables concurrently, in a no-transaction migration', ({ text }) => {
    for (const statement of statements(text)) {
      const index = statement.match(/^create\s+(?:unique\s+)?index\s+(concurrently\s+)?.*?\bon\s+"?(\w+)"?/is);
      if (!index || !largeTables.includes(index[2] as string)) continue;
      expect(index[1], statement).toBeDefined();
      expect(text.startsWith(NO_TRANSACTION_MARKER), statement).toBe(true);
    }
  });

  it.each(later)(
    '$tag, without a transaction, holds only concurrent index statements that can run again',
    ({ text }) => {
      if (!text.startsWith(NO_TRANSACTION_MARKER)) return;
      for (const statement of statements(text)) {
        expect(statement, statement).toMatch(
          /^(create\s+(unique\s+)?index\s+concurrently\s+if\s+not\s+exists|drop\s+index\s+concurrently\s+if\s+exists)\s/i,
        );
      }
    },
  );
});
