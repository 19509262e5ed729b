import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { dropDatabase } from './database.ts';
import { testServices } from './services.ts';

/** A temporary directory, removed when the test that asked for it finishes. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A migrations folder of our own, in drizzle-kit's layout (`<tag>.sql` and
 * `meta/_journal.json`): for tests of the runner that need a migration the project has not.
 */
export function migrationsFolderOf(migrations: { tag: string; sql: string }[]): string {
  const folder = tempDir('mandate-migrations-');
  mkdirSync(join(folder, 'meta'));
  for (const { tag, sql } of migrations) writeFileSync(join(folder, `${tag}.sql`), sql);
  const entries = migrations.map(({ tag }, idx) => ({ idx, version: '7', when: 1_000 + idx, tag, breakpoints: true }));
  writeFileSync(
    join(folder, 'meta', '_journal.json'),
    JSON.stringify({ version: '7', dialect: 'postgresql', entries }),
  );
  return folder;
}

/** The name and URL of a database that does not exist yet; `drop()` removes it if it came to. */
export function emptyDatabase(): { name: string; url: string; drop(): Promise<void> } {
  const name = `mandate_m_${randomBytes(6).toString('hex')}`;
  return { name, url: testServices.databaseUrl(name), drop: () => dropDatabase(name) };
}
