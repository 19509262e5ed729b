import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A new random link key: 32 bytes, base64url (43 characters). */
export function newLinkSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The development link key of a data directory (docs/adr/0015): read from
 * `<dataDir>/link-secret`, or — the first time — generated and written there, readable by
 * its owner only (0600), so every process of one checkout (`npm start`, `npm run api`,
 * the worker, the CLI) derives the same links, and no two checkouts share a key.
 * Created under a temporary name and linked into place, so two processes starting at
 * once agree on one key and neither reads a half-written file.
 */
export function keepDevLinkSecret(dataDir: string): { secret: string; file: string } {
  const file = path.resolve(dataDir, 'link-secret');
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  // `wx`: never through a file or link someone planted under the draft's name.
  writeFileSync(draft, `${newLinkSecret()}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  // The key opens every link: only a plain file of this user, readable by nobody else.
  const kept = lstatSync(file);
  if (!kept.isFile()) throw new Error(`${file} is not a plain file`);
  if (typeof process.getuid === 'function' && kept.uid !== process.getuid()) {
    throw new Error(`${file} belongs to another user`);
  }
  if ((kept.mode & 0o077) !== 0) throw new Error(`${file} is readable by others (chmod 600 it, or delete it)`);
  return { secret: readFileSync(file, 'utf8').trim(), file };
}
