import type { Logger } from '../../logger.ts';
import { EmbeddedPostgresError, execFileAsync, SYSTEM_USER } from './common.ts';

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the system user
 * `postgres`, created (`useradd --system`) if the machine has none — what the package's
 * `createPostgresUser` option does. Not root: as ourselves.
 */
export async function systemUser(logger: Logger): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync('id', ['-u', SYSTEM_USER]),
      execFileAsync('id', ['-g', SYSTEM_USER]),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await ids();
  } catch {
    try {
      await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', SYSTEM_USER]);
    } catch (error) {
      throw new EmbeddedPostgresError(
        `running as root, and could not create the system user ${SYSTEM_USER} the embedded PostgreSQL must run as: ${(error as Error).message}`,
      );
    }
    logger.info({ user: SYSTEM_USER }, 'created a system user for the embedded PostgreSQL (it refuses to run as root)');
    return ids();
  }
}
