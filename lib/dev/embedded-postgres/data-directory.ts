import { chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EmbeddedPostgresError, execFileAsync, SYSTEM_USER } from './common.ts';

/** Runs initdb on `dataDir` unless it holds a cluster already; true when it did. */
export async function initialise(
  dataDir: string,
  initdb: string,
  runAs: { uid: number; gid: number } | undefined,
): Promise<boolean> {
  const exists = await stat(path.join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (exists) {
    if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
    return false;
  }
  // The parents stay world-traversable (the server's user must reach the directory);
  // the directory itself is private, as PostgreSQL requires.
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
  // Trust authentication on a server that listens on 127.0.0.1 only: what the default
  // DATABASE_URL (postgres://postgres@127.0.0.1:5432) assumes of a local install too.
  const args = [`--pgdata=${dataDir}`, '--username=postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'];
  try {
    await execFileAsync(initdb, args, { ...runAs, cwd: dataDir, env: { ...process.env, LC_MESSAGES: 'C' } });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new EmbeddedPostgresError(
      `initdb failed on ${dataDir}${runAs ? ` (running as the user ${SYSTEM_USER}, who must be able to reach it and the binaries)` : ''}: ${(stderr || (error as Error).message).trim()}`,
    );
  }
  return true;
}
