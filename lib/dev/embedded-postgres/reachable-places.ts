import { createHash } from 'node:crypto';
import { rmdirSync, rmSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logger.ts';
import { EmbeddedPostgresError, execFileAsync, SYSTEM_USER } from './common.ts';

/**
 * As root, the server runs as the user `postgres` (system-user.ts), which must reach its
 * binaries and its data directory. A clone in root's home (mode 0700) puts both out of
 * its reach: node_modules and `./.data/pg` are inside. Then both go to a directory of
 * their own under the system directory (EMBEDDED_PG_SYSTEM_DIR, default
 * /var/lib/mandate/embedded-postgres), one per configured data directory:
 *
 *   <system dir>/<path-of-the-data-dir>-<hash>/data      the cluster, the user's, kept between runs
 *   <system dir>/<path-of-the-data-dir>-<hash>/postgres  a copy of the binaries, root's, for one run
 *
 * The binaries are copied (0.1 s, 60 MB) rather than kept: the copy is removed when the
 * server that runs it stops, and one left by a process that died is replaced.
 */
export type RunAs = { uid: number; gid: number };

/**
 * Whether `runAs` can reach and search (a directory) or run (a file) `target`. The kernel
 * answers: `test -x` runs as that user with no supplementary groups, as the server will.
 */
export async function canReach(target: string, runAs: RunAs): Promise<boolean> {
  try {
    await execFileAsync('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], { ...runAs, cwd: '/' });
    return true;
  } catch {
    return false;
  }
}

/** The directory under `systemDir` that stands in for the configured data directory `dataDir`. */
export function standInFor(systemDir: string, dataDir: string): string {
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  // Readable in `ls`: the path it stands for, shortened from the left.
  const slug = dataDir
    .split(path.sep)
    .filter(Boolean)
    .join('-')
    .replace(/[^\w.-]/g, '_')
    .slice(-48);
  return path.join(path.resolve(systemDir), `${slug}-${hash}`);
}

/**
 * The data directory the server runs on: `dataDir` when `runAs` reaches it (its nearest
 * existing ancestor: what initdb creates below is made traversable), else `data` in its
 * stand-in (the move is logged, with a warning if a cluster is left behind).
 */
export async function reachableDataDir(
  dataDir: string,
  runAs: RunAs,
  systemDir: string,
  logger: Logger,
): Promise<{ dataDir: string; outOfReach?: string }> {
  if (await canReach(await nearestExisting(path.dirname(dataDir)), runAs)) return { dataDir };
  const home = await makeStandIn(systemDir, dataDir, runAs);
  const moved = path.join(home, 'data');
  const leftBehind = await exists(path.join(dataDir, 'PG_VERSION'));
  logger[leftBehind ? 'warn' : 'info'](
    { configured: dataDir, dataDir: moved },
    `the user ${SYSTEM_USER} the embedded PostgreSQL runs as cannot reach ${dataDir}: its data are in ${moved}${leftBehind ? ' (the cluster in the first is not used)' : ''}`,
  );
  return { dataDir: moved, outOfReach: dataDir };
}

export interface Binaries {
  initdb: string;
  postgres: string;
  /** The copy made for this run (removed by {@link removeCopy}), when `runAs` could not reach the package's. */
  copiedTo?: string;
}

/**
 * The package's binaries when `runAs` can run them; else a fresh copy of the package's
 * `native/` tree (bin, lib, share: PostgreSQL finds its libraries and files relative to
 * its binary) in the stand-in of `dataDir`, root's and read-only to others.
 */
export async function reachableBinaries(
  found: { initdb: string; postgres: string },
  runAs: RunAs,
  systemDir: string,
  dataDir: string,
): Promise<Binaries> {
  if ((await canReach(found.initdb, runAs)) && (await canReach(found.postgres, runAs))) return found;
  const source = path.resolve(path.dirname(found.postgres), '..');
  const copy = path.join(await makeStandIn(systemDir, dataDir, runAs), 'postgres');
  await rm(copy, { recursive: true, force: true });
  try {
    await cp(source, copy, { recursive: true, verbatimSymlinks: true });
    await openToOthers(copy);
  } catch (error) {
    removeCopy(copy);
    throw new EmbeddedPostgresError(`could not copy the PostgreSQL binaries to ${copy}: ${(error as Error).message}`);
  }
  return {
    initdb: path.join(copy, path.relative(source, found.initdb)),
    postgres: path.join(copy, path.relative(source, found.postgres)),
    copiedTo: copy,
  };
}

/**
 * Removes a copy of the binaries, and its stand-in directory if nothing else is in it.
 * Synchronous: it also runs in `exit` handlers, once the server has been signalled (a
 * stopping server keeps the files it has open).
 */
export function removeCopy(copy: string | undefined): void {
  if (!copy) return;
  rmSync(copy, { recursive: true, force: true });
  try {
    rmdirSync(path.dirname(copy));
  } catch {
    // The data are there too: it stays.
  }
}

/**
 * Creates (root's, 0755) the stand-in of `dataDir` under `systemDir` — which must be
 * root's and writable by root only, since the server runs what is copied there — and
 * checks `runAs` reaches it.
 */
async function makeStandIn(systemDir: string, dataDir: string, runAs: RunAs): Promise<string> {
  const root = path.resolve(systemDir);
  await mkdirOpen(root);
  const info = await lstat(root);
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${root} (EMBEDDED_PG_SYSTEM_DIR) must be a directory owned by root and writable by root only: the embedded PostgreSQL runs binaries copied there`,
    );
  }
  const home = standInFor(root, dataDir);
  await mkdirOpen(home);
  if (!(await canReach(home, runAs))) {
    throw new EmbeddedPostgresError(
      `the user ${SYSTEM_USER} cannot reach ${dataDir}, nor ${home} where its data and binaries would go instead: set EMBEDDED_PG_SYSTEM_DIR to a directory it can reach, or DATABASE_URL to another server`,
    );
  }
  return home;
}

/** `mkdir -p` whose new directories are 0755 whatever the umask. */
async function mkdirOpen(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (!first) return;
  for (let d = dir; ; d = path.dirname(d)) {
    await chmod(d, 0o755);
    if (d === first || d === path.dirname(d)) break;
  }
}

/** Directories 0755, files readable by all and runnable by all if by their owner; writable by their owner only. */
async function openToOthers(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await openToOthers(file);
    else if (entry.isFile()) {
      const { mode } = await stat(file);
      await chmod(file, ((mode & 0o700) | 0o444 | (mode & 0o100 ? 0o111 : 0)) & 0o755);
    }
  }
}

async function nearestExisting(dir: string): Promise<string> {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((await exists(d)) || d === path.dirname(d)) return d;
  }
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );
