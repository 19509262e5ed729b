import { type AuditAction, type AuditOutcome, auditOutcomes, isAuditAction } from './audit-actions.ts';
import { AppError } from './errors.ts';

/** What a reader of a trail may narrow it by, as it arrives (a query string, a form). */
export interface AuditFilterInput {
  actor?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** The same, checked: `from` inclusive, `before` exclusive. */
export interface AuditFilters {
  /** An address, a user id, or `system` for what Mandate did by itself. */
  actor?: string;
  action?: AuditAction;
  outcome?: AuditOutcome;
  from?: Date;
  before?: Date;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A day (`2026-12-03`, UTC) or a moment with its offset; the end of a range takes a day whole. */
function moment(value: string, end: boolean): Date | null {
  if (DAY.test(value)) {
    const day = new Date(`${value}T00:00:00Z`);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) return null;
    return end ? new Date(day.getTime() + 86_400_000) : day;
  }
  if (!MOMENT.test(value)) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

const blank = (value: string | undefined): value is undefined => value === undefined || value.trim() === '';

/** Checks a reader's filters; anything unclear is 422 `VALIDATION_FAILED` naming the field. */
export function auditFilters(input: AuditFilterInput): AuditFilters {
  const issues: { path: string; message: string }[] = [];
  const filters: AuditFilters = {};
  if (!blank(input.actor)) {
    const actor = input.actor.trim();
    if (actor.length > 320) issues.push({ path: 'actor', message: 'at most 320 characters' });
    else filters.actor = actor;
  }
  if (!blank(input.action)) {
    if (isAuditAction(input.action)) filters.action = input.action;
    else issues.push({ path: 'action', message: 'not an action of the audit trail' });
  }
  if (!blank(input.outcome)) {
    const outcome = input.outcome as AuditOutcome;
    if (auditOutcomes.includes(outcome)) filters.outcome = outcome;
    else issues.push({ path: 'outcome', message: `one of ${auditOutcomes.join(', ')}` });
  }
  for (const [field, end] of [
    ['from', false],
    ['to', true],
  ] as const) {
    const raw = input[field];
    if (blank(raw)) continue;
    const at = moment(raw.trim(), end);
    if (!at) issues.push({ path: field, message: 'a day (2026-12-03) or a moment (2026-12-03T09:30:00Z)' });
    else if (field === 'from') filters.from = at;
    else filters.before = at;
  }
  if (filters.from && filters.before && filters.before <= filters.from) {
    issues.push({ path: 'to', message: 'must come after from' });
  }
  if (issues.length > 0) throw new AppError('VALIDATION_FAILED', 'The audit filters are not valid', { issues });
  return filters;
}
