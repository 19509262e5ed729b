import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config, DEFAULT_DATABASE_URL, DEFAULT_EMBEDDED_PG_SYSTEM_DIR } from '../config.ts';
import type { Logger } from '../logger.ts';
import { findBinaries } from './embedded-postgres/binaries.ts';
import { STOP_TIMEOUT_MS, urlFor } from './embedded-postgres/common.ts';
import { initialise } from './embedded-postgres/data-directory.ts';
import { answersAt, pickPort } from './embedded-postgres/ports.ts';
import {
  type Binaries,
  reachableBinaries,
  reachableDataDir,
  removeCopy,
} from './embedded-postgres/reachable-places.ts';
import {
  collectOutput,
  isAlive,
  readPid,
  runningServer,
  stopPid,
  waitUntilReady,
} from './embedded-postgres/server-process.ts';
import { systemUser } from './embedded-postgres/system-user.ts';

export { EmbeddedPostgresError } from './embedded-postgres/common.ts';

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
  /**
   * The configured data directory, when the server's user (as root: `postgres`) cannot
   * reach it and `dataDir` stands in for it (embedded-postgres/reachable-places.ts).
   */
  outOfReach?: string;
  /** Where the binaries were copied for this run (removed when it stops), when that user could not reach them. */
  binariesDir?: string;
  /** True when this process started the server (and so stops it); false when it shares one. */
  owned: boolean;
  /** Stops the server (fast shutdown) if this process owns it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** Written beside the server's own lock file: which process started the server. */
const OWNER_FILE = 'mandate-owner.pid';

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
  config: Pick<
    Config,
    'embeddedPostgres' | 'embeddedPostgresDir' | 'embeddedPostgresSystemDir' | 'embeddedPostgresPort' | 'env'
  >,
  logger: Logger,
): Promise<EmbeddedPostgres | undefined> {
  if (!(await wantsEmbeddedPostgres(config))) return undefined;
  return startEmbeddedPostgres({
    dataDir: config.embeddedPostgresDir,
    systemDir: config.embeddedPostgresSystemDir,
    port: config.embeddedPostgresPort,
    logger,
  });
}

/**
 * Starts PostgreSQL on `dataDir` (initialising it on the first run) at `port`, or at a
 * free port when that one is taken or 0. A server already running on `dataDir` is shared
 * when the `npm start` that started it still runs, and replaced when that process died
 * without stopping it (kill -9). Logs one line saying so.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  /**
   * As root: where the binaries and the data go when the user `postgres` cannot reach the
   * package's or `dataDir` (EMBEDDED_PG_SYSTEM_DIR). Default `/var/lib/mandate/embedded-postgres`.
   */
  systemDir?: string;
  port: number;
  logger: Logger;
  /** Added to the server's environment (the fault suite runs it under a shifted clock). */
  env?: Record<string, string>;
}): Promise<EmbeddedPostgres> {
  const started = performance.now();
  const { logger, systemDir = DEFAULT_EMBEDDED_PG_SYSTEM_DIR } = options;
  const configured = path.resolve(options.dataDir);
  const runAs = await systemUser(logger);
  const { dataDir, outOfReach } = runAs
    ? await reachableDataDir(configured, runAs, systemDir, logger)
    : { dataDir: configured, outOfReach: undefined };
  const placed = { dataDir, outOfReach };

  const running = await runningServer(dataDir);
  if (running) {
    const owner = await readPid(path.join(dataDir, OWNER_FILE));
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      logger.info(
        { dataDir, port: running.port, postgresPid: running.pid, ownerPid: owner },
        'sharing the embedded PostgreSQL another running `npm start` started (that one stops it)',
      );
      return { url: urlFor(running.port), port: running.port, ...placed, owned: false, stop: async () => {} };
    }
    logger.warn(
      { dataDir, postgresPid: running.pid },
      'stopping an embedded PostgreSQL left running by a process that died',
    );
    await stopPid(running.pid);
  }

  const found = await findBinaries();
  const binaries: Binaries = runAs ? await reachableBinaries(found, runAs, systemDir, configured) : found;
  let initialised: boolean;
  let port: number;
  try {
    initialised = await initialise(dataDir, binaries.initdb, runAs);
    port = await pickPort(options.port);
  } catch (error) {
    removeCopy(binaries.copiedTo);
    throw error;
  }
  const child = spawn(
    binaries.postgres,
    // TCP on the loopback interface only, and no Unix socket (whose default directory
    // may not exist or be shared with a system PostgreSQL).
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      ...runAs,
      cwd: dataDir,
      env: { ...process.env, ...options.env, LC_MESSAGES: 'C' },
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
  // The copied binaries go too: the stopping server keeps the files it has open.
  const killOnExit = () => {
    child.kill('SIGINT');
    removeCopy(binaries.copiedTo);
  };
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
    killOnExit();
    forget();
    throw error;
  }
  await writeFile(path.join(dataDir, OWNER_FILE), `${process.pid}\n`);
  const ms = Math.round(performance.now() - started);
  const shown = dataDir.startsWith(`${process.cwd()}${path.sep}`) ? path.relative(process.cwd(), dataDir) : dataDir;
  logger.info(
    { dataDir, outOfReach, binariesDir: binaries.copiedTo, port, postgresPid: child.pid, initialised, ms },
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
    ...placed,
    binariesDir: binaries.copiedTo,
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
      removeCopy(binaries.copiedTo);
      logger.info({ dataDir, removed: binaries.copiedTo }, 'embedded PostgreSQL stopped');
    },
  };
}
