/** What the parts of the embedded PostgreSQL share: its error, its address, its user and its waits. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** The database Mandate uses on the embedded server (the default URL's). */
const DATABASE = 'mandate';
/** PostgreSQL refuses to run as root: as root, the server runs as this system user. */
export const SYSTEM_USER = 'postgres';
export const READY_TIMEOUT_MS = 60_000;
export const STOP_TIMEOUT_MS = 30_000;

export const execFileAsync = promisify(execFile);

export const urlFor = (port: number, database = DATABASE) => `postgres://postgres@127.0.0.1:${port}/${database}`;
