import { z } from 'zod';

/**
 * Control characters (C0, DEL, C1), the Unicode line/paragraph separators, and the
 * invisible formatting characters that can make a name read differently from what it
 * is (bidirectional overrides and isolates, zero-width characters, the BOM). None has a
 * place in a name; CR/LF could otherwise reach an email header.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const controlChars = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

export function hasControlChars(value: string): boolean {
  return controlChars.test(value) || !value.isWellFormed();
}

/**
 * A bounded, storable echo of untrusted text (for error reports): lone surrogates
 * replaced, control characters removed, cut to `max` characters.
 */
export function sanitizeEcho(value: string, max = 320): string {
  const cleaned = value.toWellFormed().replace(new RegExp(controlChars.source, 'g'), '');
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned;
}

/** A single-line human-readable string: trimmed, non-empty, no control characters. */
export function plainText(max: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !hasControlChars(v), 'must not contain control characters, line breaks or invisible formatting');
}

/** A URL as a message may show it: its password replaced by `***`, no trailing slash. */
export function urlWithoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an unreadable URL)';
  }
}
