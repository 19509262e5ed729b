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

/**
 * How many whole weeks a late pass still composes, the most recent ones (6). A pass
 * normally has one due; after a clock jump or the workers down for weeks it has those
 * missed, but a digest of months ago is news to nobody.
 */
export const DIGEST_CATCH_UP_WEEKS = 6;

/**
 * The weeks whose digests are due at `now`, oldest first: every whole week after
 * `lastTaken` (the latest week composed, by its name) up to the last whole week, at most
 * {@link DIGEST_CATCH_UP_WEEKS}. None ever taken: the last whole week only, so the first
 * pass does not compose weeks from before the digest existed. `lastTaken` ahead of the last
 * whole week (the clock went back): none.
 */
export function dueDigestWeeks(now: Date, lastTaken: string | null): Date[] {
  const last = lastWholeWeekStart(now).getTime();
  const earliest = last - (DIGEST_CATCH_UP_WEEKS - 1) * 7 * DAY_MS;
  const after = lastTaken === null ? last : weekEnd(new Date(`${lastTaken}T00:00:00Z`)).getTime();
  const weeks: Date[] = [];
  for (let t = Math.max(after, earliest); t <= last; t += 7 * DAY_MS) weeks.push(new Date(t));
  return weeks;
}
