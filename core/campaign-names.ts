/**
 * A campaign's name when its sender gives none: its offer's name and the day it was
 * created (UTC) — `Managed IT 2027 – 2026-12-03`; a second one that day is numbered
 * ({@link firstFreeName}). The lists show each campaign's time beside its name, so the name
 * stays short (a picker of campaigns must fit a phone).
 */
export function defaultCampaignName(offerName: string, at: Date): string {
  return `${offerName} – ${at.toISOString().slice(0, 10)}`;
}

/**
 * `base` if no name in `taken` is it, else the first of `base (2)`, `base (3)`… that is
 * free: two campaigns sent within a minute are told apart on every list.
 */
export function firstFreeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const name = `${base} (${n})`;
    if (!taken.has(name)) return name;
  }
}
