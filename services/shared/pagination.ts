import { AppError } from '../../core/errors.ts';

/** Page sizes of every listing. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/**
 * Cursors are opaque to clients: the base64url of the last id of the previous page.
 * Ids sort by creation time, so `id > cursor` is a stable keyset.
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,3}_[0-9a-f]{32}$/.test(id)) throw unknownCursor();
  return id;
}

/** The error for a cursor no listing of this API handed out. */
export function unknownCursor(): AppError {
  return new AppError('VALIDATION_FAILED', 'The cursor is not one this API handed out', {
    issues: [{ path: 'cursor', message: 'unknown cursor' }],
  });
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
 * The next cursor is made from the page's last row by `cursorOf` (default: its id, by
 * {@link encodeCursor}).
 */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T>;
export function toPage<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T>;
export function toPage<T>(
  rows: T[],
  limit: number,
  cursorOf = (last: T) => encodeCursor((last as { id: string }).id),
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? cursorOf(last) : null };
}
