/**
 * The weekly digest a client organization's admins receive: what partners did in their
 * organization during the last whole week (Monday 00:00 UTC to Monday 00:00 UTC). Pure
 * rules: which week is due, and how its lines read.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** The Monday 00:00 UTC that starts the last whole week before `now`. */
export function lastWholeWeekStart(now: Date): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const sinceMonday = (new Date(today).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(today - (sinceMonday + 7) * DAY_MS);
}

/** The end (exclusive) of the week starting at `start`. */
export const weekEnd = (start: Date): Date => new Date(start.getTime() + 7 * DAY_MS);

/** `2026-11-23`: a week named by its Monday. */
export const weekName = (start: Date): string => start.toISOString().slice(0, 10);
