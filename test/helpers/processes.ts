import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
/**
 * Node itself with tsx as a module hook — not the `tsx` command, which runs the script in
 * a child process: a signal sent to the command (`kill -9` above all) would not reach
 * the process under test.
 */
const node = (entry: string, args: string[] = []) => [process.execPath, ['--import', 'tsx', entry, ...args]] as const;

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry point of the project to completion, as `npm run` would. */
export function runTsx(entry: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [command, argv] = node(entry, args);
    const child = spawn(command, argv, { cwd: projectRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Service {
  child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a long-running entry point (the API, a worker) in the background, in the project
 * or in `cwd` (a copy of it).
 */
export function startTsx(entry: string, env: Record<string, string>, cwd = projectRoot): Service {
  const [command, argv] = node(entry);
  const child = spawn(command, argv, { cwd, env: { ...process.env, ...env } });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  return {
    child,
    output: () => output,
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}

/** Polls `url` until it answers 200. */
export async function waitForHttp(url: string, timeoutMs = 30_000, service?: Service): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not up yet
    }
    if (service && service.child.exitCode !== null) {
      throw new Error(`process exited with ${service.child.exitCode}:\n${service.output()}`);
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer within ${timeoutMs} ms\n${service?.output() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
