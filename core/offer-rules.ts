import type { AccessLevel } from './access.ts';
import type { FieldIssue } from './errors.ts';

/** Longest delegation, and the cap a manual extension may reach (2 years). */
export const MAX_DURATION_DAYS = 730;
export const DEFAULT_DURATION_DAYS = 730;
/** How far one automatic extension moves the end date. */
export const AUTO_EXTEND_DAYS = 180;
/** An offer nobody answers expires after this many days. */
export const ANSWER_TIMEOUT_DAYS = 90;
/** An offer link works for this long unless the partner chooses otherwise. */
export const DEFAULT_OFFER_EXPIRY_DAYS = 90;
export const MAX_OFFER_EXPIRY_DAYS = 365;

export interface OfferTerms {
  access: AccessLevel;
  durationDays: number;
  autoExtend: boolean;
}

/**
 * Rules an offer must follow beyond the shape of its fields. Auto-extend is never
 * allowed with full access: standing global-admin rights are exactly what least
 * privilege is meant to end.
 */
export function checkOfferTerms(terms: OfferTerms): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (terms.autoExtend && terms.access === 'full') {
    issues.push({ path: 'autoExtend', message: 'auto-extend is not allowed with full access' });
  }
  if (!Number.isInteger(terms.durationDays) || terms.durationDays < 1 || terms.durationDays > MAX_DURATION_DAYS) {
    issues.push({ path: 'durationDays', message: `must be a whole number of days from 1 to ${MAX_DURATION_DAYS}` });
  }
  return issues;
}
