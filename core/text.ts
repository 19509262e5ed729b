import { z } from 'zod';

/**
 * Control characters (C0, DEL, C1) and the Unicode line/paragraph separators. None has
 * a place in a name, and CR/LF in a name could otherwise reach an email header.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const controlChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function hasControlChars(value: string): boolean {
  return controlChars.test(value);
}

/** A single-line human-readable string: trimmed, non-empty, no control characters. */
export function plainText(max: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !hasControlChars(v), 'must not contain control characters or line breaks');
}
