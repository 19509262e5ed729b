import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets Mandate must read back (a TOTP shared secret, unlike a password, cannot be
 * hashed: the server computes codes from it) are kept sealed with AES-256-GCM.
 *
 * The key is derived from LINK_SECRET (HKDF-SHA256 under a label of its own), not from a
 * new variable: LINK_SECRET is already required in production and kept out of the
 * database, so a copy of the database alone opens nothing. Rotating LINK_SECRET makes
 * sealed secrets unreadable: those users then sign in with a recovery code (hashed
 * without a key, so they survive a rotation) and enrol again. The `v1.` prefix leaves
 * room for a key of its own later.
 */
const VERSION = 'v1';
const keys = new Map<string, Buffer>();

function keyFor(linkSecret: string): Buffer {
  let key = keys.get(linkSecret);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', linkSecret, 'mandate', 'mandate sealed secrets v1', 32));
    keys.set(linkSecret, key);
  }
  return key;
}

/**
 * Seals `plaintext`; `context` (say `totp:<userId>`) is authenticated with it, so a
 * sealed value copied onto another row does not open there.
 */
export function sealSecret(linkSecret: string, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(linkSecret), iv);
  cipher.setAAD(Buffer.from(context));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, sealed, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

const TAG_BYTES = 16;

/** The plaintext of a sealed value, or null when it does not open (another key, context or a changed byte). */
export function openSecret(linkSecret: string, sealed: string, context: string): string | null {
  const [version, iv, data, tag, ...rest] = sealed.split('.');
  if (version !== VERSION || !iv || !data || !tag || rest.length > 0) return null;
  const authTag = Buffer.from(tag, 'base64url');
  // GCM would accept a tag as short as 4 bytes: only the full 16 prove the value is ours.
  if (authTag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(linkSecret), Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
