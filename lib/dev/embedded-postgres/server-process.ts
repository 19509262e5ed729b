import type { ChildProcess } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../../logger.ts';
import { EmbeddedPostgresError, READY_TIMEOUT_MS, STOP_TIMEOUT_MS, urlFor } from './common.ts';

/** Forwards the server's log lines to the debug log, keeping the last ones for errors. */
export function collectOutput(child: ChildProcess, logger: Logger): () => string {
  const last: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      logger.debug({ postgres: line }, 'embedded PostgreSQL');
      last.push(line);
      if (last.length > 20) last.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return () => last.join('\n');
}

/** Waits until the server at `port` answers; throws with its last output if it exits, fails to run or takes too long. */
export async function waitUntilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  for (;;) {
    if (spawnError) throw new EmbeddedPostgresError(`could not run postgres: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmbeddedPostgresError(`postgres exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    if (await serverAnswers(port)) return;
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        `postgres did not accept connections within ${READY_TIMEOUT_MS} ms:\n${output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The data directory of the PostgreSQL answering at `port`, or undefined if none answers. */
async function dataDirectoryAt(port: number): Promise<string | undefined> {
  const sql = postgres(urlFor(port, 'postgres'), { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    const [row] = await sql<{ dir: string }[]>`select current_setting('data_directory') as dir`;
    return row?.dir;
  } catch {
    return undefined;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const serverAnswers = async (port: number) => (await dataDirectoryAt(port)) !== undefined;

/**
 * The server running on `dataDir` according to its lock file (postmaster.pid: the pid
 * on line 1, the port on line 4) — confirmed by asking the server at that port for its
 * data directory, so a stale file whose pid now belongs to another process is ignored.
 */
export async function runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  const lock = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!lock) return undefined;
  const lines = lock.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  const served = await dataDirectoryAt(port);
  if (!served) return undefined;
  const [a, b] = await Promise.all([realpath(served).catch(() => served), realpath(dataDir)]);
  return a === b ? { pid, port } : undefined;
}

export async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return text && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown of a server this process did not start; waits until it is gone. */
export async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`the PostgreSQL left running (pid ${pid}) did not stop; stop it and start again`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
