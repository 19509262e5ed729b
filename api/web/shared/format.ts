/**
 * Moments as the pages show them: in UTC, in ISO 8601 order, cut to what the page needs.
 * A string is read as a date (rows from raw SQL); an absent moment shows as a dash.
 */
export type Moment = Date | string | null | undefined;

/** `2025-03-14 09:26:53`: one slice of this, so every page cuts the same string. */
function cut(moment: Moment, from: number, to: number): string {
  if (!moment) return '—';
  return (typeof moment === 'string' ? new Date(moment) : moment).toISOString().replace('T', ' ').slice(from, to);
}

/** `2025-03-14` */
export const utcDay = (moment: Moment) => cut(moment, 0, 10);

/** `2025-03-14 09:26` */
export const utcMinute = (moment: Moment) => cut(moment, 0, 16);

/** `2025-03-14 09:26:53` */
export const utcSecond = (moment: Moment) => cut(moment, 0, 19);

/** `09:26`: a chart's hour axis. */
export const hourMinute = (moment: Moment) => cut(moment, 11, 16);

/** `03-14`: a chart's day axis. */
export const monthDay = (moment: Moment) => cut(moment, 5, 10);

/**
 * A recorded detail as words, not JSON: "reason: …; reply: 550 …; attempt: 2" — its plain
 * values, keys spelled out (`smtpReply` → "smtp reply"), nested values as lists.
 */
export function detailInWords(detail: Record<string, unknown> | null | undefined): string {
  if (!detail) return '';
  const words = (value: unknown): string =>
    Array.isArray(value)
      ? value.map(words).join(', ')
      : value !== null && typeof value === 'object'
        ? Object.entries(value)
            .map(([k, v]) => `${k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} ${words(v)}`)
            .join(', ')
        : String(value);
  return Object.entries(detail)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => `${key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}: ${words(value)}`)
    .join('; ');
}
